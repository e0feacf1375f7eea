// A role's package set: what every node of the role installs, from the distro's defaults and
// the site's packages: section. The kickstart's %packages, the mirror's closure and the
// qcow2 images all start from it.
#pragma once

#include <string>
#include <vector>

#include "site/model.hpp"

namespace airstrap::site {

// The package list of a role: the defaults, then the site's additions and removals.
// Names in kickstart syntax: plain names, @group, @^environment.
struct PackageSet {
    std::vector<std::string> install;
    std::vector<std::string> exclude;
};
PackageSet packages_for(const Site& site, Role role);

// The minimal install's environment group of a distro ("@^minimal" on EL7,
// "@^minimal-environment" after): the first entry of every role's set.
const char* minimal_environment(Distro distro);

}  // namespace airstrap::site
