// Private to the site parser: a node's bonds and disks (nodes[].bonds, nodes[].disks, and the
// per-role defaults under disk_layouts).
#pragma once

#include <string>
#include <vector>

#include "site/key_reader.hpp"
#include "site/model.hpp"

namespace airstrap::site {

// nodes[i].bonds: a list of bonds. Items that cannot be used are reported and left out.
void parse_bonds(KeyReader& k, const YAML::Node& node, const std::string& what,
                 std::vector<Bond>& bonds);

// A disks mapping ({system, layout, lvm, data}), at `what` ("nodes[0].disks",
// "disk_layouts.compute").
void parse_disks(KeyReader& k, const YAML::Node& node, const std::string& what, Disks& disks);

// One disk: a kernel name (sda), a /dev/disk/by-… path, or {size: 480G, model: GLOB}.
std::optional<DiskSelector> parse_disk_selector(KeyReader& k, const YAML::Node& node,
                                                const std::string& what);

}  // namespace airstrap::site
