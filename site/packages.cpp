#include "site/packages.hpp"

#include <algorithm>

namespace airstrap::site {

namespace {

void add_unique(std::vector<std::string>& list, const std::string& item) {
    if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

void erase(std::vector<std::string>& list, const std::string& item) {
    list.erase(std::remove(list.begin(), list.end(), item), list.end());
}

}  // namespace

const char* minimal_environment(Distro distro) {
    return distro == Distro::el7 ? "@^minimal" : "@^minimal-environment";
}

PackageSet packages_for(const Site& site, Role role) {
    PackageSet set;
    set.install = {minimal_environment(site.distro), "@core", "chrony", "openssh-server",
                   "airstrap-firstboot"};
    // The legacy `network` service: EL7 has it in initscripts, EL8 in network-scripts, EL9
    // not at all.
    if (!site.security.network_manager && site.distro == Distro::el8) {
        set.install.push_back("network-scripts");
    }
    if (role == Role::controller) set.install.push_back("openstack-packstack");
    if (role == Role::compute) set.exclude.push_back("libvirt-daemon-config-network");
    std::vector<const PackageChanges*> changes = {&site.packages.common};
    if (auto it = site.packages.roles.find(role); it != site.packages.roles.end()) {
        changes.push_back(&it->second);
    }
    for (const auto* c : changes) {
        for (const auto& p : c->add) {
            add_unique(set.install, p);
            erase(set.exclude, p);
        }
        for (const auto& p : c->remove) {
            erase(set.install, p);
            add_unique(set.exclude, p);
        }
    }
    return set;
}

}  // namespace airstrap::site
