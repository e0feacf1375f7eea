// Private to the validator: the 'cloud:' section's checks (names unique per kind, projects
// known, subnets inside their networks, the external network and its allocation pool,
// routers), which need the site's networks and nodes.
#pragma once

#include "common/diagnostics.hpp"
#include "site/model.hpp"

namespace airstrap::site {

void validate_cloud(const Site& site, Diagnostics& diag);

}  // namespace airstrap::site
