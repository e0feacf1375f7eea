#include "provision/state.hpp"

#include <array>

#include "common/error.hpp"
#include "provision/json_util.hpp"

namespace airstrap::provision {

using nlohmann::json;

namespace {

constexpr int state_format = 1;

constexpr std::array<std::pair<Phase, std::string_view>, 6> phase_names = {{
    {Phase::waiting, "waiting"},
    {Phase::dhcp, "dhcp"},
    {Phase::boot_file_sent, "boot file sent"},
    {Phase::kickstart_fetched, "kickstart fetched"},
    {Phase::installed, "installed"},
    {Phase::local_boot, "local boot"},
}};

}  // namespace

std::string_view to_string(BuildState state) {
    return state == BuildState::build ? "build" : "local";
}

std::string_view to_string(Phase phase) {
    for (const auto& [p, name] : phase_names) {
        if (p == phase) return name;
    }
    return "?";
}

std::optional<BuildState> build_state_from(std::string_view word) {
    if (word == "build") return BuildState::build;
    if (word == "local") return BuildState::local;
    return std::nullopt;
}

std::optional<Phase> phase_from(std::string_view word) {
    for (const auto& [p, name] : phase_names) {
        if (name == word) return p;
    }
    return std::nullopt;
}

namespace {

Change enter(NodeState& node, Phase phase, std::int64_t now) {
    if (node.phase == phase) return Change::unchanged;
    node.phase = phase;
    node.phase_since = now;
    return Change::changed;
}

}  // namespace

Change on_dhcp(NodeState& node, const std::string& address, std::int64_t now) {
    bool moved = node.address != address;
    node.address = address;
    if (node.state == BuildState::build) {
        Change c = enter(node, Phase::dhcp, now);
        // A second attempt (the node rebooted into the installer again) restarts the clock.
        if (c == Change::unchanged) node.phase_since = now;
        return Change::changed;
    }
    return moved ? Change::changed : Change::unchanged;
}

Change on_tftp_sent(NodeState& node, bool config, std::int64_t now) {
    if (node.state == BuildState::build) return enter(node, Phase::boot_file_sent, now);
    if (!config) return Change::unchanged;
    return enter(node, Phase::local_boot, now);
}

Change on_kickstart_fetched(NodeState& node, std::int64_t now) {
    if (node.state != BuildState::build) return Change::refused;
    return enter(node, Phase::kickstart_fetched, now);
}

Change on_installed(NodeState& node, std::int64_t now) {
    if (node.state != BuildState::build) return Change::refused;
    node.state = BuildState::local;
    node.phase = Phase::installed;
    node.phase_since = now;
    node.installed_at = now;
    ++node.installs;
    node.last_error.clear();
    node.last_error_at = 0;
    return Change::changed;
}

Change on_rebuild(NodeState& node, std::int64_t now) {
    if (node.state == BuildState::build && node.phase == Phase::waiting) return Change::unchanged;
    node.state = BuildState::build;
    node.phase = Phase::waiting;
    node.phase_since = now;
    node.last_error.clear();
    node.last_error_at = 0;
    return Change::changed;
}

void on_error(NodeState& node, const std::string& what, std::int64_t now) {
    node.last_error = what;
    node.last_error_at = now;
}

std::string state_json_text(const StateFile& state) {
    json nodes = json::object();
    for (const auto& [name, n] : state.nodes) {
        nodes[name] = {{"state", to_string(n.state)},    {"phase", to_string(n.phase)},
                       {"phase_since", n.phase_since},   {"address", n.address},
                       {"last_error", n.last_error},     {"last_error_at", n.last_error_at},
                       {"installed_at", n.installed_at}, {"installs", n.installs}};
    }
    return json{{"format", state_format}, {"nodes", nodes}}.dump(1) + "\n";
}

StateFile parse_state_json(std::string_view text, const std::string& where) {
    using detail::bad;
    json doc = detail::parse_json(text, where);
    if (!doc.is_object()) bad(where, "", "expected an object");
    if (detail::get_int(doc, "format", where) != state_format) {
        bad(where, "format", "expected " + std::to_string(state_format));
    }
    StateFile out;
    for (const auto& [name, j] : detail::get(doc, "nodes", json::value_t::object, where).items()) {
        std::string at = where + ": nodes." + name;
        if (!j.is_object()) bad(at, "", "expected an object");
        NodeState n;
        std::string word = detail::get_string(j, "state", at);
        auto state = build_state_from(word);
        if (!state) bad(at, "state", "'" + word + "' is neither 'build' nor 'local'");
        n.state = *state;
        word = detail::get_string(j, "phase", at);
        auto phase = phase_from(word);
        if (!phase) bad(at, "phase", "unknown phase '" + word + "'");
        n.phase = *phase;
        n.phase_since = detail::get_int(j, "phase_since", at);
        n.address = detail::get_string(j, "address", at);
        n.last_error = detail::get_string(j, "last_error", at);
        n.last_error_at = detail::get_int(j, "last_error_at", at);
        n.installed_at = detail::get_int(j, "installed_at", at);
        std::int64_t installs = detail::get_int(j, "installs", at);
        if (installs < 0) bad(at, "installs", "negative");
        n.installs = static_cast<unsigned>(installs);
        out.nodes.emplace(name, std::move(n));
    }
    return out;
}

}  // namespace airstrap::provision
