// kolla-ansible export, for sites that outgrow Packstack: a multinode inventory in the layout
// of kolla-ansible's own ansible/inventory/multinode for the site's release (the group
// hierarchy is data: deploy/kolla/<release>.groups, embedded at build time), and a globals.yml
// with what site.yaml says about the deployment.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "site/model.hpp"

namespace airstrap::deploy {

struct KollaInventory {
    std::string multinode;
    std::string globals;
};

// `source` names the site file in the header comments. InputError for a site kolla cannot
// take: no controller, a release kolla-ansible does not have, OVN before ussuri, no external
// interface for Neutron.
KollaInventory render_kolla_inventory(const site::Site& site,
                                      const std::string& source = "site.yaml");

// Writes DIR/multinode and DIR/globals.yml (0644, each atomically; DIR made if missing).
// Both are rendered and staged before either is renamed into place.
void write_kolla_inventory(const site::Site& site, const std::filesystem::path& dir,
                           const std::string& source = "site.yaml");

// kolla-ansible's group hierarchy for one release.
struct KollaGroups {
    std::string release;
    std::string origin;                    // the data file's first comment: ref and commit
    std::vector<std::string> host_groups;  // in kolla's order: control, network, …
    std::vector<std::pair<std::string, std::vector<std::string>>> children;  // [G:children]
};

// nullptr for a release kolla-ansible does not have (or airstrap has no table for).
const KollaGroups* kolla_groups(std::string_view release);
// Every release with a table, oldest first.
std::vector<std::string> kolla_release_names();

}  // namespace airstrap::deploy
