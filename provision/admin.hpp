// What the operator does to a served tree from another shell: see each node's state and
// phase, and put an installed node back into build.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "provision/state.hpp"

namespace airstrap::provision {

struct NodeStatus {
    std::string name, role, address;  // address: the site's (its static lease)
    NodeState state;
};
// In the site's order. InputError when DIR is not a PXE tree or its state file is damaged.
std::vector<NodeStatus> node_status(const std::filesystem::path& dir);

// NODE → build (phase waiting) and its per-MAC configs back to the install entry, under the
// state lock: the running service serves its kickstart again from the next request on.
// InputError naming the site's nodes when there is no such node. Returns whether it changed.
bool rebuild(const std::filesystem::path& dir, const std::string& node, std::int64_t now);

}  // namespace airstrap::provision
