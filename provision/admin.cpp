#include "provision/admin.hpp"

#include "common/error.hpp"
#include "common/text.hpp"
#include "provision/store.hpp"
#include "provision/tree.hpp"

namespace airstrap::provision {

std::vector<NodeStatus> node_status(const std::filesystem::path& dir) {
    ServiceConfig config = read_service_config(dir);
    StateFile state = StateStore(dir).load();
    std::vector<NodeStatus> out;
    for (const auto& n : config.nodes) {
        NodeStatus s{n.name, n.role, n.address, {}};
        if (auto it = state.nodes.find(n.name); it != state.nodes.end()) s.state = it->second;
        out.push_back(std::move(s));
    }
    return out;
}

bool rebuild(const std::filesystem::path& dir, const std::string& node, std::int64_t now) {
    ServiceConfig config = read_service_config(dir);
    const NodeEntry* entry = config.find(node);
    if (!entry) {
        std::vector<std::string> names;
        for (const auto& n : config.nodes) names.push_back(n.name);
        throw InputError("--rebuild " + node + ": the tree " + dir.string() +
                         " has no such node (it serves " + text::join(names, ", ") + ")");
    }
    Change c = Change::unchanged;
    StateStore(dir).update([&](StateFile& state) {
        c = on_rebuild(state.nodes[node], now);
        // Written even when unchanged: the configs follow the state whatever happened to them.
        write_boot_files(dir, *entry, BuildState::build);
        return c == Change::changed;
    });
    return c == Change::changed;
}

}  // namespace airstrap::provision
