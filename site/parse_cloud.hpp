// Private to the site parser: the 'cloud:' section (day-1 resources the controller makes).
#pragma once

#include <string>

#include "site/key_reader.hpp"
#include "site/model.hpp"

namespace airstrap::site {

// `release` gives a user's default role. Items that cannot be used are reported and left out.
void parse_cloud(KeyReader& k, const YAML::Node& node, const std::string& release, Cloud& cloud);

}  // namespace airstrap::site
