// Each node's build state, kept on disk by `airstrap serve` (DIR/state/nodes.json):
//
//   build   the node's next network boot installs it: its per-MAC configs hold the install
//           entry and its kickstart is served to its address
//   local   it is installed: its next network boot boots the local disk, its kickstart is
//           refused to everyone
//
// A new node starts in build; a verified install report moves it to local; `airstrap serve
// DIR --rebuild NODE` moves it back. Its phase says how far the current attempt got:
//   waiting → dhcp → boot file sent → kickstart fetched → installed → local boot
// Every change is a read-modify-write under DIR/state/lock, written through a temp file and
// renamed into place: a restart in the middle finds the old state or the new one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace airstrap::provision {

enum class BuildState { build, local };
enum class Phase { waiting, dhcp, boot_file_sent, kickstart_fetched, installed, local_boot };

std::string_view to_string(BuildState state);
std::string_view to_string(Phase phase);  // "boot file sent" …
std::optional<BuildState> build_state_from(std::string_view word);
std::optional<Phase> phase_from(std::string_view word);

struct NodeState {
    BuildState state = BuildState::build;
    Phase phase = Phase::waiting;
    std::int64_t phase_since = 0;  // Unix seconds
    std::string address;           // where it was last seen from (dnsmasq, HTTP)
    std::string last_error;        // "" when none
    std::int64_t last_error_at = 0;
    std::int64_t installed_at = 0;  // its last verified report
    unsigned installs = 0;          // verified reports so far
};

struct StateFile {
    std::map<std::string, NodeState> nodes;
};

std::string state_json_text(const StateFile& state);
// InputError naming `where` for anything but a well-formed nodes.json.
StateFile parse_state_json(std::string_view text, const std::string& where);

}  // namespace airstrap::provision
