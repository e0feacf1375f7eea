// Checks that need the whole site: uniqueness, addresses inside their networks, roles,
// bridges, distro rules, Packstack keys. Reports into the same Diagnostics as the parser.
#pragma once

#include "common/diagnostics.hpp"
#include "site/model.hpp"

namespace airstrap::site {

void validate_site(const Site& site, Diagnostics& diag);

// The keys airstrap writes into the answer file itself, and where the site says them.
struct ManagedAnswer {
    const char* key;
    const char* set_by;
};
extern const ManagedAnswer managed_answers[];

}  // namespace airstrap::site
