// The provisioning half of a PXE tree: what `airstrap build pxe` writes for the service that
// `airstrap serve` runs, and what that service keeps.
//
//   DIR/private/              0700, the tree's owner (the service's user) only
//       service.json          0600: per node its address, MACs, kickstart, install-report key
//                             and the texts of its boot files in both states
//       ks/nodes/NODE.ks      0600: each node's own kickstart (never under DIR/http)
//   DIR/state/                0700
//       nodes.json            0600: per node build|local, its phase and last error (state.hpp)
//       lock                  flock(2)ed around every read-modify-write of nodes.json
//
// nginx and dnsmasq run as another user and read only DIR/http and DIR/tftp.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/crypto.hpp"

namespace airstrap::provision {

inline constexpr const char* private_dir = "private";
inline constexpr const char* service_file = "private/service.json";
inline constexpr const char* kickstart_dir = "private/ks";  // + nodes/NODE.ks
inline constexpr const char* state_dir = "state";
inline constexpr const char* state_file = "state/nodes.json";
inline constexpr const char* lock_file = "state/lock";

// A file a network boot reads whose text depends on the node's state: its per-MAC pxelinux
// and grub configs. `path` is relative to the tree ("tftp/pxelinux.cfg/01-aa-bb-…").
struct BootFile {
    std::string path;
    std::string build_text;  // installs (the kickstart entry, no menu)
    std::string local_text;  // boots the local disk (pxelinux localboot, grub exit)
};

struct NodeEntry {
    std::string name;
    std::string role;
    std::string address;            // its management address: dnsmasq's static lease
    std::vector<std::string> macs;  // lower case, "aa:bb:cc:dd:ee:ff"
    std::string kickstart;          // relative to DIR/private/ks: "nodes/NAME.ks"
    crypto::Bytes report_key;       // 32 bytes: node::install_report_key of the node's key
    std::vector<BootFile> boot_files;
};

struct ServiceConfig {
    std::string site;
    std::string server_ip;
    int http_port = 0;
    std::vector<NodeEntry> nodes;

    const NodeEntry* find(std::string_view name) const;
    const NodeEntry* find_by_address(std::string_view address) const;
    const NodeEntry* find_by_mac(std::string_view mac) const;  // any case
};

std::string service_json_text(const ServiceConfig& config);
// InputError naming `where` (and what is wrong) for anything but a well-formed service.json.
ServiceConfig parse_service_json(std::string_view text, const std::string& where);
ServiceConfig read_service_config(const std::filesystem::path& dir);

// Makes DIR/private (0700) and DIR/state (0700) in the new tree `root`, writes service.json
// (0600) and nodes.json: each node keeps the state it had in `previous` (the tree being
// replaced, when there is one: rebuilding a tree must not reinstall the nodes already
// installed), a new node starts in build. Then writes every boot file of every node, the
// variant of its state (0644). Returns the states written.
struct PreparedNode {
    std::string name;
    bool local = false;
};
std::vector<PreparedNode> prepare_tree(const std::filesystem::path& root,
                                       const std::filesystem::path& previous,
                                       const ServiceConfig& config);

}  // namespace airstrap::provision
