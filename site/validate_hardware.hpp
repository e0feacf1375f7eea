// Private to validate_site(): the checks of a node's links (bonds, VLANs, IPv6 addresses,
// networks per NIC) and of its disks (layout against disk count, data volumes).
#pragma once

#include "common/diagnostics.hpp"
#include "site/model.hpp"

namespace airstrap::site {

void validate_links(const Site& site, Diagnostics& diag);
void validate_disks(const Site& site, Diagnostics& diag);

}  // namespace airstrap::site
