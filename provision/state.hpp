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

// The transitions (pure; `now` in Unix seconds). Each says whether it changed the node.
enum class Change { changed, unchanged, refused };
// dnsmasq leased it an address: a node being built enters phase dhcp; an installed one only
// has its address noted.
Change on_dhcp(NodeState& node, const std::string& address, std::int64_t now);
// TFTP sent it a file: in build, phase "boot file sent"; in local, its per-MAC config
// (`config`) means it is booting its disk: phase "local boot".
Change on_tftp_sent(NodeState& node, bool config, std::int64_t now);
// Its kickstart went out: only in build (refused otherwise).
Change on_kickstart_fetched(NodeState& node, std::int64_t now);
// A verified install report: build → local (refused in local: it was not being built).
Change on_installed(NodeState& node, std::int64_t now);
// The operator asks for a reinstall: → build, phase waiting.
Change on_rebuild(NodeState& node, std::int64_t now);
// Something went wrong for this node (a TFTP file missing, a report that did not verify).
void on_error(NodeState& node, const std::string& what, std::int64_t now);

std::string state_json_text(const StateFile& state);
// InputError naming `where` for anything but a well-formed nodes.json.
StateFile parse_state_json(std::string_view text, const std::string& where);

}  // namespace airstrap::provision
