#include "firstboot/steps.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <system_error>
#include <thread>

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/text.hpp"
#include "firstboot/node_files.hpp"

namespace airstrap::firstboot {

namespace fs = std::filesystem;

namespace {

// System files we read are small; a larger one is not what we think it is.
constexpr std::size_t max_system_file = 1 << 20;

bool present(const fs::path& p) {
    std::error_code ec;
    return fs::exists(p, ec);
}

std::optional<std::string> read_optional(const fs::path& p) {
    if (!present(p)) return std::nullopt;
    return read_file(p, max_system_file);
}

// Creates the folder (and its parents) and gives the folder itself `mode`.
void ensure_dir(const fs::path& dir, mode_t mode) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw SystemError("cannot create " + dir.string(), ec.value());
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) throw SystemError("cannot stat " + dir.string(), errno);
    if ((st.st_mode & 07777) != mode && ::chmod(dir.c_str(), mode) != 0) {
        throw SystemError("cannot chmod " + dir.string(), errno);
    }
}

// Writes `data` atomically unless the file already holds exactly it with `mode`.
// Returns whether it wrote.
bool write_if_changed(const fs::path& file, const std::string& data, mode_t mode) {
    struct stat st {};
    if (::stat(file.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == mode &&
        read_file(file, max_system_file) == data) {
        return false;
    }
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    if (ec) throw SystemError("cannot create " + file.parent_path().string(), ec.value());
    write_file_atomic(file, data, mode);
    return true;
}

// A renderer's InputError, about a file we read, is nested in one that names the file.
template <class Fn>
auto about_file(const fs::path& file, Fn fn) -> decltype(fn()) {
    try {
        return fn();
    } catch (const InputError&) {
        std::throw_with_nested(InputError(file.string()));
    }
}

// The last non-blank line, spaces collapsed: what a failed command says went wrong.
std::string last_line(const std::string& output) {
    std::vector<std::string> lines = text::split(output, '\n');
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
        std::string t = text::trim(*it);
        if (t.empty()) continue;
        std::string out;
        for (char c : t) {
            if ((c == ' ' || c == '\t') && !out.empty() && out.back() == ' ') continue;
            out += (c == '\t') ? ' ' : c;
        }
        return out;
    }
    return "";
}

bool sandboxed(const node::Paths& paths) {
    return paths.root != fs::path("/");
}

bool has_network_scripts(const node::Site& site) {
    return site.site.distro == "el7" || site.site.distro == "el8";
}

struct UnitState {
    bool missing = false;
    bool active = false;
    bool enabled = false;
};

UnitState unit_state(CommandRunner& runner, const std::string& unit) {
    UnitState s;
    ProcessResult en = runner.run({"systemctl", "is-enabled", unit});
    std::string state = last_line(en.output);
    if (en.exit_code != 0 && (state.find("not-found") != std::string::npos ||
                              state.find("No such file") != std::string::npos)) {
        s.missing = true;
        return s;
    }
    // On el7 a SysV service (network) answers through chkconfig: the state is the last line.
    s.enabled = en.exit_code == 0 && (state == "enabled" || state == "enabled-runtime");
    s.active = runner.run({"systemctl", "is-active", unit}).exit_code == 0;
    return s;
}

std::string turn_off(CommandRunner& runner, const std::string& unit) {
    UnitState s = unit_state(runner, unit);
    if (s.missing) return unit + " not installed";
    if (!s.active && !s.enabled) return unit + " off";
    run_checked(runner, {"systemctl", "disable", "--now", unit});
    return unit + " disabled and stopped";
}

// Without NetworkManager, el7/el8 bring the network up with the network service: it must be
// there and enabled before NetworkManager goes, or the node is unreachable after a reboot.
std::string ensure_network_service(StepContext& ctx) {
    UnitState s = unit_state(ctx.runner, "network");
    if (s.missing) {
        throw Error("site.yaml turns NetworkManager off, but node '" + ctx.id.node +
                    "' has no network service (network-scripts) to bring its network up after "
                    "a reboot: install network-scripts from the site repository, or set "
                    "security.network_manager: true and rebuild the media");
    }
    if (s.enabled) return "network service on";
    run_checked(ctx.runner, {"systemctl", "enable", "network"});
    return "network service enabled";
}

std::string check_selinux(StepContext& ctx) {
    const node::Site& site = ctx.id.site;
    std::string note;
    std::string current;
    try {
        current = last_line(run_checked(ctx.runner, {"getenforce"}));
    } catch (const SystemError&) {
        current = "";  // no libselinux-utils: SELinux is not in use
    }
    if (site.security.selinux == "enforcing") {
        if (current.empty() || current == "Enforcing") return "SELinux " + current;
        // Turning enforcing on needs a relabel and a reboot: an operator's decision.
        return "SELinux " + current + " (site.yaml says enforcing: relabel and reboot to apply)";
    }
    note = "SELinux " + (current.empty() ? std::string("not in use") : current);
    if (current == "Enforcing") {
        run_checked(ctx.runner, {"setenforce", "0"});
        note = "SELinux permissive now (was Enforcing)";
    }
    fs::path config = ctx.paths.under("/etc/selinux/config");
    if (auto old = read_optional(config)) {
        if (write_if_changed(config, set_selinux_config(*old, site.security.selinux), 0644)) {
            note += ", SELINUX=" + site.security.selinux + " in /etc/selinux/config";
        }
    }
    return note;
}

// yum/dnf repolist lines start with the repo id, "!" or "*" in front when metadata is expired
// or the repo came from a mirror list, "/$releasever/$basearch" behind on el7.
bool lists_repo(const std::string& output, const std::string& id) {
    for (const auto& line : text::split(output, '\n')) {
        std::string t = text::trim(line);
        std::string first = t.substr(0, t.find_first_of(" \t"));
        while (!first.empty() && (first[0] == '!' || first[0] == '*')) first.erase(0, 1);
        first = first.substr(0, first.find('/'));
        if (first == id) return true;
    }
    return false;
}

std::string check_repo(StepContext& ctx) {
    std::vector<std::string> argv =
        ctx.id.site.site.distro == "el7"
            ? std::vector<std::string>{"yum", "-q", "repolist", "enabled"}
            : std::vector<std::string>{"dnf", "-q", "repolist", "--enabled"};
    std::string command = text::join(argv, " ");
    ProcessResult r = ctx.runner.run(argv);
    if (r.exit_code != 0) {
        throw Error("the local repository does not answer: '" + command + "' failed (exit " +
                    std::to_string(r.exit_code) + "): " + what_went_wrong(r) +
                    "; check /etc/yum.repos.d/airstrap.repo and the folder its baseurl names");
    }
    if (!lists_repo(r.output, "airstrap")) {
        throw Error("the local repository does not answer: '" + command +
                    "' does not list the repository 'airstrap'; /etc/yum.repos.d/airstrap.repo "
                    "(written by the kickstart) is missing or disabled");
    }
    return "repository airstrap answers";
}

const char* const host_key_types[] = {"rsa", "ecdsa", "ed25519"};

std::vector<std::string> missing_host_keys(const node::Paths& paths) {
    std::vector<std::string> missing;
    for (const char* t : host_key_types) {
        fs::path key = paths.etc_ssh() / ("ssh_host_" + std::string(t) + "_key");
        if (!present(key) || !present(fs::path(key.string() + ".pub"))) missing.push_back(t);
    }
    return missing;
}

std::string key_type(const std::string& key_line) {
    return key_line.substr(0, key_line.find(' '));
}

// sysfs files claim st_size 4096 whatever they hold.
bool nested_on(const fs::path& param) {
    std::string value = text::trim(read_file(param, 4096));
    return value == "Y" || value == "1";
}

// Whether /proc/cpuinfo's flags have VMX (Intel) or SVM (AMD), as the seed's
// `egrep -c '(vmx|svm)' /proc/cpuinfo` asks; nullopt when there is no cpuinfo to read.
std::optional<bool> cpu_has_virtualization(StepContext& ctx) {
    std::optional<std::string> cpuinfo = read_optional(ctx.paths.under("/proc/cpuinfo"));
    if (!cpuinfo) return std::nullopt;
    for (const std::string& line : text::split(*cpuinfo, '\n')) {
        if (!line.starts_with("flags")) continue;
        std::size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        for (const std::string& flag : text::split(line.substr(colon + 1), ' ')) {
            if (flag == "vmx" || flag == "svm") return true;
        }
    }
    return false;
}

constexpr const char* no_hardware_virtualization =
    "this CPU has no VMX or SVM flag (no hardware virtualization: a VM without nested "
    "virtualization, or VT-x/AMD-V off in the firmware): KVM cannot run here, so instances "
    "need nova's virt_type=qemu (site.yaml openstack.answers.CONFIG_NOVA_LIBVIRT_VIRT_TYPE: "
    "qemu; software emulation, slow)";

// Turns nested virtualization on now if the loaded kvm module allows it; else says why it
// waits for a reboot (the modprobe.d file applies then). Never fails the step.
std::string nested_now(StepContext& ctx) {
    if (cpu_has_virtualization(ctx) == false)
        return std::string("nested virtualization not possible: ") + no_hardware_virtualization;
    for (const std::string module : {"kvm_intel", "kvm_amd"}) {
        fs::path param = ctx.paths.under("/sys/module/" + module + "/parameters/nested");
        if (!present(param)) continue;
        if (nested_on(param)) return "nested virtualization on (" + module + ")";
        // Reloading fails while instances run (module in use): then a reboot does it.
        ProcessResult r = ctx.runner.run({"modprobe", "-r", module});
        if (r.exit_code == 0) r = ctx.runner.run({"modprobe", module});
        if (r.exit_code != 0) {
            return "reboot to enable nested virtualization (" + module +
                   " could not be reloaded: " + what_went_wrong(r) + ")";
        }
        if (present(param) && nested_on(param)) {
            return "nested virtualization on (" + module + " reloaded)";
        }
        return "reboot to enable nested virtualization (" + module + " reloaded, nested still off)";
    }
    return "nested virtualization set for kvm_intel/kvm_amd, but no kvm module is loaded (is "
           "VT-x/AMD-V on in the firmware or the hypervisor?)";
}

std::string format_offset(double seconds) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%+.6f", seconds);
    return buf;
}

}  // namespace

std::string step_identity(StepContext& ctx) {
    const node::Site& site = ctx.id.site;
    std::string fqdn = site.fqdn(ctx.self());
    write_if_changed(ctx.paths.hostname(), fqdn + "\n", 0644);
    fs::path hosts = ctx.paths.hosts();
    std::string old = read_optional(hosts).value_or("");
    write_if_changed(hosts, about_file(hosts, [&] { return render_hosts(old, site); }), 0644);
    run_checked(ctx.runner, {"hostname", fqdn});
    return "host name " + fqdn + ", /etc/hosts names the " + std::to_string(site.nodes.size()) +
           " nodes of site " + site.site.name;
}

std::string step_checks(StepContext& ctx) {
    const node::Site& site = ctx.id.site;
    std::vector<std::string> notes;
    if (!site.security.firewalld) notes.push_back(turn_off(ctx.runner, "firewalld"));
    if (!site.security.network_manager) {
        std::string network;
        if (has_network_scripts(site)) network = ensure_network_service(ctx);
        notes.push_back(turn_off(ctx.runner, "NetworkManager"));
        if (!network.empty()) notes.push_back(network);
    }
    notes.push_back(check_selinux(ctx));
    notes.push_back(check_repo(ctx));
    return text::join(notes, ", ");
}

std::string step_host_keys(StepContext& ctx) {
    std::vector<std::string> missing = missing_host_keys(ctx.paths);
    std::string generated;
    if (!missing.empty()) {
        std::vector<std::string> argv = {"ssh-keygen", "-A"};
        if (sandboxed(ctx.paths)) {
            // OpenSSH >= 7.8 writes under a prefix; a real node (root "/") needs no -f, and
            // el7's ssh-keygen 7.4 would not know it.
            ensure_dir(ctx.paths.etc_ssh(), 0755);
            argv.insert(argv.end(), {"-f", ctx.paths.root.string()});
        }
        run_checked(ctx.runner, argv);
        std::vector<std::string> still = missing_host_keys(ctx.paths);
        if (!still.empty()) {
            throw Error("ssh-keygen -A made no " + text::join(still, ", ") + " host key in " +
                        ctx.paths.etc_ssh().string() +
                        " (is the folder writable? does sshd's crypto policy forbid the type?)");
        }
        generated = " (generated " + text::join(missing, ", ") + ")";
    }
    std::vector<std::string> types;
    for (const auto& k : read_host_keys(ctx.paths)) types.push_back(key_type(k));
    return "host keys " + text::join(types, ", ") + generated;
}

std::string step_root_key(StepContext& ctx) {
    const node::Site& site = ctx.id.site;
    fs::path key = ctx.paths.root_key();
    fs::path pub = key.string() + ".pub";
    ensure_dir(ctx.paths.root_ssh(), 0700);
    std::string how = "present";
    if (!present(key)) {
        std::error_code ec;
        fs::remove(pub, ec);  // a public half alone is stale; ssh-keygen would not replace it
        run_checked(ctx.runner, {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                                 "root@" + site.fqdn(ctx.self()), "-f", key.string()});
        how = "generated";
    } else if (!present(pub)) {
        std::string line = run_checked(ctx.runner, {"ssh-keygen", "-y", "-f", key.string()});
        write_if_changed(pub, normalize_public_key(line) + " root@" + site.fqdn(ctx.self()) + "\n",
                         0644);
        how = "present, public key restored";
    }
    std::string public_key = read_root_public_key(ctx.paths);
    if (public_key.empty() || !present(key)) {
        throw Error("ssh-keygen did not leave a key pair at " + key.string() + " and " +
                    pub.string() + ": check that " + ctx.paths.root_ssh().string() +
                    " is writable");
    }
    install_authorized_key(ctx.paths, public_key);
    std::string detail =
        "root key " + key_type(normalize_public_key(public_key)) + " " + how + ", authorized";
    if (site.security.selinux != "disabled") {
        // sshd ignores key files without their policy label.
        ProcessResult r = ctx.runner.run({"restorecon", "-R", ctx.paths.root_ssh().string()});
        if (r.exit_code != 0) detail += " (restorecon failed: " + what_went_wrong(r) + ")";
    }
    return detail;
}

std::string step_compute(StepContext& ctx) {
    std::vector<std::string> notes;
    if (ctx.self().nested_virtualization) {
        write_if_changed(ctx.paths.under("/etc/modprobe.d/airstrap-kvm-nested.conf"),
                         "options kvm_intel nested=1\noptions kvm_amd nested=1\n", 0644);
        notes.push_back(nested_now(ctx));
    } else if (cpu_has_virtualization(ctx) == false) {
        notes.push_back(no_hardware_virtualization);
    }
    const std::string package = "libvirt-daemon-config-network";
    if (ctx.runner.run({"rpm", "-q", package}).exit_code == 0) {
        // --nodeps: libvirt-daemon-kvm requires it, but its default network clashes with Neutron.
        run_checked(ctx.runner, {"rpm", "-e", "--nodeps", package});
        notes.push_back(package + " removed");
    } else {
        notes.push_back(package + " absent");
    }
    return text::join(notes, ", ");
}

std::string step_external_nic(StepContext& ctx) {
    const node::Site& site = ctx.id.site;
    const node::Interface* external = site.external_interface(ctx.self());
    if (!external) return "no external NIC on node " + ctx.id.node;
    const std::string& nic = external->name;
    std::string note;
    if (has_network_scripts(site)) {
        fs::path ifcfg = ctx.paths.under("/etc/sysconfig/network-scripts/ifcfg-" + nic);
        std::string old = read_optional(ifcfg).value_or("");
        if (ifcfg_is_ovs_port(old)) {
            note = ", ifcfg-" + nic + " already an OVS port (left as Packstack wrote it)";
        } else {
            write_if_changed(ifcfg, render_external_ifcfg(old, site, nic), 0644);
            note = ", ifcfg-" + nic + " without address";
        }
    }
    ProcessResult up = ctx.runner.run({"ip", "link", "set", "dev", nic, "up"});
    if (up.exit_code != 0) {
        throw Error("cannot bring up the external NIC " + nic + ": " + what_went_wrong(up) +
                    " (check the name of node '" + ctx.id.node +
                    "''s external interface in site.yaml against 'ip link' on the node)");
    }
    ProcessResult show = ctx.runner.run({"ip", "-o", "link", "show", "dev", nic});
    if (show.exit_code != 0) {
        throw Error("the external NIC " + nic +
                    " is not there after 'ip link set up': " + what_went_wrong(show));
    }
    std::string state;
    std::vector<std::string> w = text::split(text::trim(show.output), ' ');
    for (std::size_t i = 0; i + 1 < w.size(); ++i) {
        if (w[i] == "state") state = " (state " + w[i + 1] + ")";
    }
    return nic + " up" + state + note;
}

std::string step_chrony(StepContext& ctx) {
    const node::Site& site = ctx.id.site;
    const node::Node& self = ctx.self();
    bool changed = write_if_changed(ctx.paths.chrony_conf(), render_chrony_conf(site, self), 0644);
    run_checked(ctx.runner, {"systemctl", "enable", "chronyd"});
    // A restart drops the sync chronyd has; only a new file or a stopped daemon needs one.
    bool restart = changed || ctx.runner.run({"systemctl", "is-active", "chronyd"}).exit_code != 0;
    if (restart) run_checked(ctx.runner, {"systemctl", "restart", "chronyd"});
    std::string role = self.role == node::Role::controller
                           ? "serves " + site.management_cidr()
                           : "follows " + site.address(site.controller());
    return std::string("chrony.conf ") + (changed ? "written" : "unchanged") + " (" + role +
           "), chronyd " + (restart ? "restarted" : "running");
}

std::string step_chrony_wait(StepContext& ctx) {
    using clock = std::chrono::steady_clock;
    const node::Site& site = ctx.id.site;
    const node::Node& controller = site.controller();
    bool is_controller = ctx.self().role == node::Role::controller;
    bool wants_source = !is_controller || !site.time.upstream.empty();
    std::string local = "serving local clock at stratum " + std::to_string(site.time.stratum);
    auto deadline = clock::now() + std::chrono::seconds(site.firstboot.sync_timeout);
    std::string last = "no answer";
    bool answered = false;
    for (;;) {
        ProcessResult r = ctx.runner.run({"chronyc", "-n", "tracking"});
        std::optional<ChronyTracking> t;
        if (r.exit_code == 0) t = parse_chrony_tracking(r.output);
        last = what_went_wrong(r);
        if (t) {
            answered = true;
            if (!wants_source) return local;
            if (t->synchronised_to_source()) {
                std::string source =
                    t->reference_name.empty() ? t->reference_id : t->reference_name;
                return "synchronised to " + source + ", offset " +
                       format_offset(t->offset.value_or(0)) + " s";
            }
        }
        auto now = clock::now();
        if (now >= deadline) break;
        std::this_thread::sleep_for(std::min<clock::duration>(ctx.poll, deadline - now));
    }
    std::string within = " within " + std::to_string(site.firstboot.sync_timeout) + " s";
    if (is_controller) {
        if (answered) {
            return "upstream not reachable, " + local + " (" +
                   text::join(site.time.upstream, ", ") + " did not answer" + within + ")";
        }
        throw Error("chronyd on the controller did not answer 'chronyc tracking'" + within + ": " +
                    last + "; check 'systemctl status chronyd'");
    }
    throw Error("chrony did not synchronise to " + controller.name + " (" +
                site.address(controller) + ")" + within + ": " + last +
                "; check that chronyd runs on the controller and "
                "that UDP port 123 is open between the nodes");
}

std::vector<std::string> read_host_keys(const node::Paths& paths) {
    std::vector<std::string> keys;
    std::error_code ec;
    fs::directory_iterator it(paths.etc_ssh(), ec);
    if (ec) return keys;
    for (const auto& entry : it) {
        std::string name = entry.path().filename().string();
        if (!name.starts_with("ssh_host_") || !name.ends_with("_key.pub")) continue;
        std::string text = read_file(entry.path(), 64 * 1024);
        keys.push_back(about_file(entry.path(), [&] { return normalize_public_key(text); }));
    }
    std::sort(keys.begin(), keys.end());
    return keys;
}

std::string read_root_public_key(const node::Paths& paths) {
    fs::path pub = paths.root_key().string() + ".pub";
    auto text = read_optional(pub);
    if (!text) return "";
    std::string line = text::trim(*text);
    about_file(pub, [&] { return normalize_public_key(line); });
    return line;
}

void install_authorized_key(const node::Paths& paths, const std::string& public_key) {
    fs::path file = paths.authorized_keys();
    ensure_dir(paths.root_ssh(), 0700);
    std::string old = read_optional(file).value_or("");
    write_if_changed(file, about_file(file, [&] { return merge_authorized_keys(old, public_key); }),
                     0600);
}

std::string install_controller_root_key(const node::Paths& paths, const std::string& key,
                                        const std::vector<std::string>& replaces) {
    std::string wanted = normalize_public_key(key);
    fs::path remembered = paths.controller_root_key();
    std::optional<std::string> installed;
    if (auto text = read_optional(remembered)) {
        installed = about_file(remembered, [&] { return normalize_public_key(*text); });
    }
    fs::path file = paths.authorized_keys();
    ensure_dir(paths.root_ssh(), 0700);
    std::string old = read_optional(file).value_or("");
    std::string how;
    if (!installed || *installed == wanted) {
        write_if_changed(file, about_file(file, [&] { return merge_authorized_keys(old, wanted); }),
                         0600);
        how = installed ? "unchanged" : "installed";
    } else {
        bool signed_rotation = std::any_of(replaces.begin(), replaces.end(), [&](const auto& r) {
            try {
                return normalize_public_key(r) == *installed;
            } catch (const InputError&) {
                return false;
            }
        });
        if (!signed_rotation) {
            throw Error("the controller offers the root key " + key_type(wanted) + " " +
                        wanted.substr(wanted.size() - std::min<std::size_t>(12, wanted.size())) +
                        " but this node installed " + key_type(*installed) + " " +
                        installed->substr(installed->size() -
                                          std::min<std::size_t>(12, installed->size())) +
                        " and the controller's signed answer does not name it as the key it "
                        "replaces: rotation refused, authorized_keys unchanged (if the "
                        "controller's root key was replaced on purpose, remove " +
                        remembered.string() + " on this node to accept the new one)");
        }
        write_if_changed(
            file, about_file(file, [&] { return replace_authorized_key(old, *installed, wanted); }),
            0600);
        how = "rotated (signed by the controller; the old key removed)";
    }
    write_if_changed(remembered, wanted + "\n", 0600);
    return how;
}

void write_known_hosts(const node::Paths& paths, const std::vector<KnownHost>& hosts) {
    fs::path file = paths.known_hosts();
    std::string old = read_optional(file).value_or("");
    write_if_changed(file, about_file(file, [&] { return render_known_hosts(old, hosts); }), 0644);
}

std::string what_went_wrong(const ProcessResult& r) {
    std::string l = last_line(r.output);
    return l.empty() ? "exit " + std::to_string(r.exit_code) : l;
}

std::vector<ProcessResult> run_each(CommandRunner& runner,
                                    const std::vector<std::vector<std::string>>& argvs,
                                    std::size_t at_once) {
    std::vector<ProcessResult> results(argvs.size());
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
        for (std::size_t i = next++; i < argvs.size(); i = next++) {
            try {
                results[i] = runner.run(argvs[i]);
            } catch (const std::exception& e) {
                results[i] = {127, describe(e)};
            }
        }
    };
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < std::min(std::max<std::size_t>(at_once, 1), argvs.size()); ++t)
        threads.emplace_back(worker);
    for (auto& t : threads) t.join();
    return results;
}

std::string verify_ssh(StepContext& ctx, const std::vector<const node::Node*>& nodes) {
    // One ssh per node, up to 16 at once: a 50-node site is checked in seconds, not minutes.
    std::vector<std::vector<std::string>> argvs;
    for (const node::Node* n : nodes) {
        std::vector<std::string> argv = {"ssh",           "-o", "StrictHostKeyChecking=yes", "-o",
                                         "BatchMode=yes", "-o", "ConnectTimeout=10"};
        if (sandboxed(ctx.paths)) {
            // The same check against the sandbox's key and known hosts, not the real ones.
            argv.insert(argv.end(),
                        {"-o", "GlobalKnownHostsFile=" + ctx.paths.known_hosts().string(), "-o",
                         "UserKnownHostsFile=/dev/null", "-i", ctx.paths.root_key().string()});
        }
        argv.insert(argv.end(), {"root@" + ctx.id.site.address(*n), "true"});
        argvs.push_back(std::move(argv));
    }
    std::vector<ProcessResult> results = run_each(ctx.runner, argvs);
    std::vector<std::string> failures;
    std::vector<std::string> reached;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        const node::Node* n = nodes[i];
        if (results[i].exit_code == 0) {
            reached.push_back(n->name);
        } else {
            failures.push_back(n->name + " (" + ctx.id.site.address(*n) +
                               "): " + what_went_wrong(results[i]));
        }
    }
    if (!failures.empty()) {
        throw Error("ssh as root with strict host key checking failed to " +
                    std::to_string(failures.size()) + " of " + std::to_string(nodes.size()) +
                    " nodes: " + text::join(failures, "; ") +
                    " (check sshd on those nodes and their keys in " +
                    ctx.paths.known_hosts().string() + " and their authorized_keys)");
    }
    return "ssh as root works to " + std::to_string(reached.size()) +
           " nodes: " + text::join(reached, ", ");
}

}  // namespace airstrap::firstboot
