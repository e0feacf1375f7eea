// The node's setup steps. Each is idempotent (running it twice changes nothing the second
// time), writes files atomically under node::Paths, and runs system commands only through the
// CommandRunner, so the tests run the same code in a sandbox and assert the commands.
// Each returns one line for the journal or throws Error saying what is wrong and what to do.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/subprocess.hpp"
#include "node/identity.hpp"
#include "node/layout.hpp"

namespace airstrap::firstboot {

struct StepContext {
    const node::Identity& id;
    const node::Paths& paths;
    CommandRunner& runner;
    // How often step_chrony_wait asks chronyd; the tests make it short.
    std::chrono::milliseconds poll{1000};
    const node::Node& self() const { return *id.site.node(id.node); }
};

// /etc/hostname and a managed block in /etc/hosts naming every node (address fqdn short);
// `hostname NAME` so the running system agrees.
std::string step_identity(StepContext& ctx);
// firewalld, NetworkManager and SELinux as the site says (disabled and stopped where the site
// turns them off: systemctl disable --now, setenforce 0 + /etc/selinux/config), and the local
// repository answers (`yum -q repolist` on el7, `dnf -q repolist` on el8/9, must list airstrap).
std::string step_checks(StepContext& ctx);
// SSH host keys exist (ssh-keygen -A when any is missing); returns their fingerprints.
std::string step_host_keys(StepContext& ctx);
// Controller: root's key pair (ssh-keygen -t ed25519 -N '' when missing) and its public key in
// root's own authorized_keys.
std::string step_root_key(StepContext& ctx);
// Compute: nested virtualization (modprobe.d + module parameter when the node asks for it)
// and libvirt-daemon-config-network absent (rpm -q / rpm -e --nodeps).
std::string step_compute(StepContext& ctx);
// Network: the external NIC up with no address (ifcfg file, ip link set up).
std::string step_external_nic(StepContext& ctx);
// chrony.conf for this node's role; chronyd enabled and restarted.
std::string step_chrony(StepContext& ctx);
// Waits until chronyd is synchronised (nodes: to the controller; controller: to an upstream
// if it has one, else its local clock), at most id.site.sync_timeout seconds; reports offset.
std::string step_chrony_wait(StepContext& ctx);

// Reading and installing keys (used by the enrolment exchange).
std::vector<std::string> read_host_keys(const node::Paths& paths);  // "type base64" lines, sorted
std::string read_root_public_key(const node::Paths& paths);         // "" when there is none
void install_authorized_key(const node::Paths& paths, const std::string& public_key);
// A node: the controller's root key, from its verified answer, into root's authorized_keys.
// The first key, or the one installed before (paths.controller_root_key()), is merged in and
// remembered; a different key only when `replaces` (the signed answer's) names the installed
// one: then that line is swapped for the new one, never kept beside it. Otherwise Error saying
// why the rotation was refused, with authorized_keys unchanged. Returns what it did.
std::string install_controller_root_key(const node::Paths& paths, const std::string& key,
                                        const std::vector<std::string>& replaces);
struct KnownHost {
    std::vector<std::string> names;  // short name, fqdn, address
    std::vector<std::string> keys;
};
void write_known_hosts(const node::Paths& paths, const std::vector<KnownHost>& hosts);

// Runs each argv, up to `at_once` at a time; results in argv order. A command that cannot be
// started answers exit 127 with the reason as its output.
std::vector<ProcessResult> run_each(CommandRunner& runner,
                                    const std::vector<std::vector<std::string>>& argvs,
                                    std::size_t at_once = 16);
// A failed command in a few words: its last line of output, or "exit N".
std::string what_went_wrong(const ProcessResult& r);

// Controller: `ssh -o StrictHostKeyChecking=yes -o BatchMode=yes root@ADDRESS true` for each
// node; throws naming every node that failed and the ssh error.
std::string verify_ssh(StepContext& ctx, const std::vector<const node::Node*>& nodes);

}  // namespace airstrap::firstboot
