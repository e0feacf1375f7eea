// Where the daemon reads and writes on a node. Every path hangs off one root: "/" on a
// real node, a sandbox folder in the tests, so the real daemon runs unchanged in both.
#pragma once

#include <filesystem>

#include "deploy/deploy_config.hpp"

namespace airstrap::firstboot {

struct Paths {
    std::filesystem::path root = "/";

    std::filesystem::path under(const std::filesystem::path& absolute) const {
        return root / absolute.relative_path();
    }
    // Written by the kickstart's %post (kickstart/render.cpp).
    std::filesystem::path config_dir() const { return under("/etc/airstrap"); }
    std::filesystem::path site_json() const { return config_dir() / "site.json"; }
    std::filesystem::path site_key() const { return config_dir() / "site.key"; }
    std::filesystem::path node_file() const { return config_dir() / "node"; }
    // The controller's deployment settings and passwords, sealed (deploy/deploy_config.hpp).
    std::filesystem::path deploy_config() const { return under(deploy::deploy_config_file); }
    // The daemon's own state: journal, pins, reports, rejoin windows.
    std::filesystem::path state_dir() const { return under("/var/lib/airstrap"); }
    std::filesystem::path journal() const { return state_dir() / "journal.json"; }
    std::filesystem::path enrolled() const { return state_dir() / "enrolled.json"; }
    std::filesystem::path rejoin_dir() const { return state_dir() / "rejoin"; }
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
    std::filesystem::path repository() const { return under(deploy::node_repository_dir); }
    // System files the steps manage.
    std::filesystem::path etc_ssh() const { return under("/etc/ssh"); }
    std::filesystem::path known_hosts() const { return etc_ssh() / "ssh_known_hosts"; }
    std::filesystem::path root_ssh() const { return under("/root/.ssh"); }
    std::filesystem::path authorized_keys() const { return root_ssh() / "authorized_keys"; }
    std::filesystem::path root_key() const { return root_ssh() / "id_ed25519"; }
    std::filesystem::path chrony_conf() const { return under("/etc/chrony.conf"); }
    std::filesystem::path hosts() const { return under("/etc/hosts"); }
    std::filesystem::path hostname() const { return under("/etc/hostname"); }
};

}  // namespace airstrap::firstboot
