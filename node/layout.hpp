// Where things live on an installed node: what the kickstart's %post and the qcow2 builder
// write, and what airstrap-firstboot reads and keeps. The one place these paths are named.
#pragma once

#include <filesystem>

namespace airstrap::node {

// The first-boot configuration (0700): site.json (0644), node (0644), node.key (0600: this
// node's own key, credentials.hpp) and, on the controller only, site.key (0600: the site
// secret) and deploy.sealed (0600).
inline constexpr const char* config_dir = "/etc/airstrap";
inline constexpr const char* site_json_file = "/etc/airstrap/site.json";
inline constexpr const char* node_key_file = "/etc/airstrap/node.key";
inline constexpr const char* site_key_file = "/etc/airstrap/site.key";
inline constexpr const char* node_name_file = "/etc/airstrap/node";
inline constexpr const char* deploy_sealed_file = "/etc/airstrap/deploy.sealed";
// The node's copy of the site repository (images/ holds the cloud's images).
inline constexpr const char* repository_dir = "/opt/airstrap/repo";
// The site repository's folder relative to the root of the install source (media or HTTP).
inline constexpr const char* media_repo_dir = "airstrap/repo";
// The daemon's own state: journal, pins, reports, rejoin windows.
inline constexpr const char* state_dir = "/var/lib/airstrap";

// The same layout under a root: "/" on a real node, a sandbox folder in the tests and the
// image builders, so the real daemon runs unchanged in both.
struct Paths {
    std::filesystem::path root = "/";

    std::filesystem::path under(const std::filesystem::path& absolute) const {
        return root / absolute.relative_path();
    }
    std::filesystem::path config_dir() const { return under(node::config_dir); }
    std::filesystem::path site_json() const { return under(site_json_file); }
    std::filesystem::path node_key() const { return under(node_key_file); }
    std::filesystem::path site_key() const { return under(site_key_file); }
    std::filesystem::path node_file() const { return under(node_name_file); }
    // The controller's deployment settings and passwords, sealed (deploy_config.hpp).
    std::filesystem::path deploy_config() const { return under(deploy_sealed_file); }
    std::filesystem::path repository() const { return under(repository_dir); }

    std::filesystem::path state_dir() const { return under(node::state_dir); }
    std::filesystem::path journal() const { return state_dir() / "journal.json"; }
    std::filesystem::path enrolled() const { return state_dir() / "enrolled.json"; }
    std::filesystem::path rejoin_dir() const { return state_dir() / "rejoin"; }
    // A node: the controller's root key it put in authorized_keys ("type base64"); another
    // key replaces it only when the controller signs that rotation.
    std::filesystem::path controller_root_key() const {
        return state_dir() / "controller_root_key";
    }
    // Runtime state in memory (tmpfs), never on disk: what unauthenticated peers tried.
    std::filesystem::path run_dir() const { return under("/run/airstrap"); }
    std::filesystem::path log_file() const { return under("/var/log/airstrap-firstboot.log"); }
    // The controller's deployment: packstack's answer file (its own, generated, and the one
    // airstrap runs), the run's output, the admin credentials packstack leaves, and which
    // enrolment of each node the last successful run deployed.
    std::filesystem::path generated_answers() const {
        return state_dir() / "packstack-generated.txt";
    }
    std::filesystem::path answer_file() const { return under("/root/airstrap-answers.txt"); }
    std::filesystem::path packstack_log() const { return under("/var/log/airstrap/packstack.log"); }
    std::filesystem::path keystonerc() const { return under("/root/keystonerc_admin"); }
    std::filesystem::path deployed() const { return state_dir() / "deployed.json"; }

    // System files the daemon's steps manage.
    std::filesystem::path etc_ssh() const { return under("/etc/ssh"); }
    std::filesystem::path known_hosts() const { return etc_ssh() / "ssh_known_hosts"; }
    std::filesystem::path root_ssh() const { return under("/root/.ssh"); }
    std::filesystem::path authorized_keys() const { return root_ssh() / "authorized_keys"; }
    std::filesystem::path root_key() const { return root_ssh() / "id_ed25519"; }
    std::filesystem::path chrony_conf() const { return under("/etc/chrony.conf"); }
    std::filesystem::path hosts() const { return under("/etc/hosts"); }
    std::filesystem::path hostname() const { return under("/etc/hostname"); }
};

}  // namespace airstrap::node
