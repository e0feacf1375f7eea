// The site as JSON, without secrets: what a node's first-boot daemon reads from
// /etc/airstrap/site.json. Keys are sorted, so the same site gives the same bytes.
#pragma once

#include <nlohmann/json.hpp>

#include "site/model.hpp"

namespace airstrap::site {

nlohmann::json to_json(const Site& site);

}  // namespace airstrap::site
