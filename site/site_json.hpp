// The site as an installed node reads it (/etc/airstrap/site.json, node/site_json.hpp),
// filled from the site model: no secrets, nothing the node does not use.
#pragma once

#include "node/site_json.hpp"
#include "site/model.hpp"

namespace airstrap::site {

node::Site node_site(const Site& site);

}  // namespace airstrap::site
