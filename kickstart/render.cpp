#include "kickstart/render.hpp"

#include <algorithm>
#include <cstdio>

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/text.hpp"
#include "deploy/answers.hpp"
#include "kickstart/dialect.hpp"
#include "kickstart/disks.hpp"
#include "kickstart/network.hpp"
#include "kickstart/node_config.hpp"
#include "kickstart/node_setup.hpp"
#include "kickstart/password.hpp"
#include "node/credentials.hpp"
#include "node/deploy_config.hpp"
#include "node/identity.hpp"
#include "node/layout.hpp"
#include "site/packages.hpp"
#include "site/site_json.hpp"

namespace airstrap::kickstart {

using site::Role;
using site::Site;

namespace {

// The %pre lines that write /tmp/airstrap/node.ks for `node`: its network commands, host name
// and disks. An unquoted here-document where %pre finds names at install time (a bond member
// by MAC, a disk by size and model); the explicit disk layout's boot partitions by firmware.
std::string node_ks_lines(const Site& site, const site::Node& node) {
    KickstartNetwork net = kickstart_network(site, node);
    KickstartDisks disks = kickstart_disks(node);
    std::string resolve = net.resolve + disks.resolve;
    std::string eof = resolve.empty() ? "'AIRSTRAP_EOF'" : "AIRSTRAP_EOF";
    std::string out = resolve + "    cat > /tmp/airstrap/node.ks <<" + eof + "\n" + net.lines +
                      "network --hostname=" + node.name + "." + site.domain + "\n" + disks.lines +
                      "AIRSTRAP_EOF\n";
    if (!disks.efi_lines.empty() || !disks.bios_lines.empty()) {
        out += "    if [ -d /sys/firmware/efi ]; then\n        cat >> /tmp/airstrap/node.ks <<" +
               eof + "\n" + disks.efi_lines +
               "AIRSTRAP_EOF\n    else\n        cat >> /tmp/airstrap/node.ks <<" + eof + "\n" +
               disks.bios_lines + "AIRSTRAP_EOF\n    fi\n";
    }
    return out;
}

// A file written by a shell script: its content through a quoted here-document, its mode.
std::string file_lines(const NodeFile& f) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", f.mode);
    return "cat > " + f.path + " <<'AIRSTRAP_EOF'\n" + f.content + "AIRSTRAP_EOF\nchmod " + mode +
           " " + f.path + "\n";
}

// "a controller node", or "a node" for the profile that serves every role.
std::string kind_of_node(std::optional<Role> role) {
    return role ? "a " + std::string(site::to_string(*role)) + " node" : std::string("a node");
}

// The %packages section of a role, as lines, plus `also` (what a %post needs that a minimal
// install may lack) where the role does not list it already.
std::string packages_section(const Site& site, Role role,
                             const std::vector<std::string>& also = {}) {
    site::PackageSet packages = site::packages_for(site, role);
    for (const auto& p : also) {
        if (std::find(packages.install.begin(), packages.install.end(), p) ==
            packages.install.end()) {
            packages.install.push_back(p);
        }
    }
    std::string out = "%packages\n";
    for (const auto& p : packages.install) out += p + "\n";
    for (const auto& p : packages.exclude) out += "-" + p + "\n";
    return out + "%end\n";
}

// `kind` names what the profile serves in %pre's refusal ("a compute node", "node NAME").
std::string pre_section(const Site& site, std::optional<Role> role, const std::string& kind,
                        const std::vector<const site::Node*>& nodes) {
    std::string out =
        "%pre --erroronfail --log=/tmp/airstrap-pre.log\n"
        "# Which node is this? airstrap.node=NAME on the kernel command line wins;\n"
        "# otherwise the first NIC whose MAC the site lists.\n"
        "mkdir -p /tmp/airstrap\n"
        "node=\n"
        "for word in $(cat /proc/cmdline); do\n"
        "    case \"$word\" in\n"
        "        airstrap.node=*) node=\"${word#airstrap.node=}\" ;;\n"
        "        airstrap.repo=*) repo_url=\"${word#airstrap.repo=}\" ;;\n"
        "        inst.repo=*) inst_repo=\"${word#inst.repo=}\" ;;\n"
        "    esac\n"
        "done\n"
        "if [ -z \"$node\" ]; then\n"
        "    for f in /sys/class/net/*/address; do\n"
        "        case \"$(cat \"$f\")\" in\n";
    for (const site::Node* n : nodes) {
        std::vector<std::string> macs = n->macs();
        if (!macs.empty())
            out += "            " + text::join(macs, "|") + ") node=" + n->name + " ;;\n";
    }
    out +=
        "        esac\n"
        "        [ -n \"$node\" ] && break\n"
        "    done\n"
        "fi\n"
        "case \"$node\" in\n";
    for (const site::Node* n : nodes) {
        out += n->name + ")\n" + node_ks_lines(site, *n);
        if (!role) {
            // The profile for every role: this node's role's packages, written with printf so
            // that no line of %pre starts with a section keyword.
            std::string words;
            for (const auto& line : text::split(packages_section(site, n->role), '\n')) {
                if (!line.empty()) words += " '" + line + "'";
            }
            out += "    printf '%s\\n'" + words + " > /tmp/airstrap/packages.ks\n";
        }
        out += "    ;;\n";
    }
    std::vector<std::string> names;
    for (const site::Node* n : nodes) names.push_back(n->name);
    out +=
        "*)\n"
        "    {\n"
        "        if [ -n \"$node\" ]; then\n"
        "            echo \"airstrap: '$node' is not " +
        kind + " of site " + site.name +
        "\"\n"
        "        else\n"
        "            echo \"airstrap: no NIC of this machine has the MAC of " +
        kind + " of site " + site.name +
        "\"\n"
        "            echo \"airstrap: this machine's MACs: $(cat /sys/class/net/*/address | tr "
        "'\\n' ' ')\"\n"
        "        fi\n"
        "        echo \"airstrap: boot with airstrap.node=NAME, NAME one of: " +
        text::join(names, " ") +
        "\"\n"
        "    } | tee /dev/console\n"
        "    exit 1\n"
        "    ;;\n"
        "esac\n"
        "echo \"$node\" > /tmp/airstrap/node\n"
        "\n"
        "# The site repository: named on the command line, on the install media, or\n"
        "# beside the HTTP install tree.\n"
        "if [ -z \"${repo_url:-}\" ]; then\n"
        "    if [ -s /run/install/repo/" +
        node::media_repo_dir +
        "/repodata/repomd.xml ]; then\n"
        "        repo_url=file:///run/install/repo/" +
        node::media_repo_dir +
        "\n"
        "    else\n"
        "        case \"${inst_repo:-}\" in\n"
        "            http://*|https://*|ftp://*) repo_url=\"${inst_repo%/}/" +
        node::media_repo_dir +
        "\" ;;\n"
        "        esac\n"
        "    fi\n"
        "fi\n"
        "if [ -z \"${repo_url:-}\" ]; then\n"
        "    echo \"airstrap: the site repository is neither on the install media (/" +
        node::media_repo_dir +
        ") nor named by inst.repo= or airstrap.repo=\" | tee /dev/console\n"
        "    exit 1\n"
        "fi\n"
        "echo \"$repo_url\" > /tmp/airstrap/repo-url\n"
        "echo \"repo --name=airstrap-site --baseurl=$repo_url\" > /tmp/airstrap/source.ks\n"
        "%end\n";
    return out;
}

std::string post_nochroot_section() {
    std::string repo = node::repository_dir;
    return "%post --nochroot --erroronfail --log=/tmp/airstrap-post-nochroot.log\n"
           "# Hand the node's identity and the site repository over to the installed system.\n"
           "set -e\n"
           "sysroot=\"${ANA_INSTALL_PATH:-/mnt/sysimage}\"\n"
           "install -d -m 0700 \"$sysroot" +
           std::string(node::config_dir) +
           "\"\n"
           "install -m 0644 /tmp/airstrap/node \"$sysroot" +
           node::config_dir +
           "/node\"\n"
           "mkdir -p \"$sysroot" +
           repo +
           "\"\n"
           "repo_url=$(cat /tmp/airstrap/repo-url)\n"
           "case \"$repo_url\" in\n"
           "    file://*) cp -a \"${repo_url#file://}/.\" \"$sysroot" +
           repo +
           "/\" ;;\n"
           "    *) curl -fsS \"$repo_url.tar\" | tar -xf - -C \"$sysroot" +
           repo +
           "\" ;;\n"
           "esac\n"
           "test -d \"$sysroot" +
           repo +
           "/repodata\"\n"
           "cp /tmp/airstrap-pre.log \"$sysroot/var/log/airstrap-pre.log\"\n"
           "%end\n";
}

bool has_controller(const std::vector<const site::Node*>& nodes) {
    for (const site::Node* n : nodes) {
        if (n->role == Role::controller) return true;
    }
    return false;
}

// Each node's own key (node.key), and the site secret (site.key) on the controller only: the
// profile carries the keys of the nodes it serves and nothing else (node/credentials.hpp).
std::string credential_lines(const site::Secrets& secrets,
                             const std::vector<const site::Node*>& nodes) {
    std::string dir = node::config_dir;
    std::string out = "case \"$node\" in\n";
    for (const site::Node* n : nodes) {
        out += "    " + n->name + ")\n        cat > " + node::node_key_file +
               " <<'AIRSTRAP_EOF'\n" +
               node::key_file_text(node::node_key(secrets.site_secret, n->name)) + "AIRSTRAP_EOF\n";
        if (n->role == Role::controller) {
            out += std::string("        cat > ") + node::site_key_file + " <<'AIRSTRAP_EOF'\n" +
                   node::key_file_text(secrets.site_secret) + "AIRSTRAP_EOF\n";
        }
        out += "        ;;\n";
    }
    out +=
        "    *)\n        echo \"airstrap: this profile holds no key for node '$node'\" >&2\n"
        "        exit 1\n        ;;\nesac\n"
        "chmod 0600 " +
        dir + "/*.key\n";
    return out;
}

// The controller's deploy.sealed (answer-file settings and passwords, sealed under the site
// secret, 0600): only the controller's profile carries it, and site.ks writes it only there.
std::string deploy_config_lines(const Site& site, const site::Secrets& secrets,
                                std::optional<Role> role,
                                const std::vector<const site::Node*>& nodes) {
    const site::Node* controller = nullptr;
    for (const site::Node* n : nodes) {
        if (n->role == Role::controller) controller = n;
    }
    if (!controller || (role && *role != Role::controller)) return "";
    std::string path = node::deploy_sealed_file;
    std::string body =
        "cat > " + path + " <<'AIRSTRAP_EOF'\n" +
        node::seal_deploy_config(deploy::deploy_config_for(site, secrets), secrets.site_secret) +
        "AIRSTRAP_EOF\nchmod 0600 " + path + "\n";
    if (role) return body;
    return "case \"$node\" in\n    " + controller->name + ")\n" + body + "        ;;\nesac\n";
}

std::string post_section(const Site& site, const site::Secrets& secrets, std::optional<Role> role,
                         const std::vector<const site::Node*>& nodes) {
    std::string dir = node::config_dir;
    std::string out =
        "%post --erroronfail --log=/root/airstrap-post.log\n"
        "set -e\n"
        "node=$(cat " +
        dir +
        "/node)\n"
        "\n"
        "# Only the site repository: vendor and internet repositories are kept, disabled.\n"
        "for f in /etc/yum.repos.d/*.repo; do\n"
        "    [ -e \"$f\" ] || continue\n"
        "    [ \"$f\" = /etc/yum.repos.d/airstrap.repo ] || mv \"$f\" \"$f.airstrap-disabled\"\n"
        "done\n"
        "cat > " +
        std::string(site_repo_file) + " <<'AIRSTRAP_EOF'\n" + site_repo_file_text(site) +
        "AIRSTRAP_EOF\n"
        "if [ -f /etc/yum/pluginconf.d/subscription-manager.conf ]; then\n"
        "    sed -i 's/^enabled=1/enabled=0/' /etc/yum/pluginconf.d/subscription-manager.conf\n"
        "fi\n";
    // VLAN devices: kickstart's network commands carry one per NIC or bond (network.hpp).
    std::string vlans;
    for (const site::Node* n : nodes) {
        std::vector<NetDevice> devices = kickstart_network(site, *n).vlans;
        if (devices.empty()) continue;
        vlans += "    " + n->name + ")\n";
        NetworkFiles style =
            site.distro == site::Distro::el9 ? NetworkFiles::keyfile : NetworkFiles::ifcfg;
        for (const NodeFile& f : network_files(devices, style, site.security.network_manager))
            vlans += file_lines(f);
        vlans += "        ;;\n";
    }
    if (!vlans.empty()) {
        out +=
            "\n# This node's VLAN devices, as the image builder writes them.\ncase \"$node\" in\n" +
            vlans + "esac\n";
    }
    std::vector<std::string> computes;
    for (const site::Node* n : nodes) {
        if (n->role == Role::compute) computes.push_back(n->name);
    }
    if (!computes.empty()) {
        std::vector<std::string> nested;
        for (const site::Node* n : nodes) {
            if (n->role == Role::compute && n->nested_virtualization) nested.push_back(n->name);
        }
        if (!nested.empty()) {
            out +=
                "\n# Nested virtualization for the instances of this compute node.\n"
                "case \"$node\" in\n    " +
                text::join(nested, "|") +
                ")\n"
                "        cat > " +
                nested_kvm_conf + " <<'AIRSTRAP_EOF'\n" + nested_kvm_conf_text() +
                "AIRSTRAP_EOF\n"
                "        ;;\nesac\n";
        }
        out += "\n# libvirt's default network (virbr0, 192.168.122.0/24) clashes with Neutron.\n";
        if (role) {
            out +=
                "if rpm -q libvirt-daemon-config-network >/dev/null 2>&1; then\n"
                "    rpm -e --nodeps libvirt-daemon-config-network\n"
                "fi\n";
        } else {
            out += "case \"$node\" in\n    " + text::join(computes, "|") +
                   ")\n"
                   "        if rpm -q libvirt-daemon-config-network >/dev/null 2>&1; then\n"
                   "            rpm -e --nodeps libvirt-daemon-config-network\n"
                   "        fi\n"
                   "        ;;\nesac\n";
        }
    }
    if (!site.ssh.authorized_keys.empty()) {
        out +=
            "\n# The operators' keys.\n"
            "install -d -m 0700 /root/.ssh\n"
            "cat >> /root/.ssh/authorized_keys <<'AIRSTRAP_EOF'\n";
        for (const auto& k : site.ssh.authorized_keys) out += k + "\n";
        out +=
            "AIRSTRAP_EOF\n"
            "chmod 0600 /root/.ssh/authorized_keys\n";
    }
    out +=
        "\n# The first-boot daemon's configuration and this node's own key.\n"
        "umask 077\n"
        "cat > " +
        dir + "/site.json <<'AIRSTRAP_EOF'\n" +
        node::site_json_text(site::node_site(site, secrets)) + "AIRSTRAP_EOF\n" +
        credential_lines(secrets, nodes) + deploy_config_lines(site, secrets, role, nodes) +
        "chmod 0644 " + dir + "/site.json " + dir +
        "/node\n"
        "systemctl enable " +
        firstboot_unit + "\n";
    if (site.security.selinux != site::Selinux::disabled) {
        // Files written here get no policy labels; sshd ignores an unlabelled key file.
        out += "restorecon -R /root/.ssh " + dir + " /etc/yum.repos.d " +
               std::string(node::repository_dir) +
               (vlans.empty() ? ""
                              : " /etc/sysconfig/network-scripts "
                                "/etc/NetworkManager/system-connections") +
               " 2>/dev/null || true\n";
    }
    out += "%end\n";
    return out;
}

// What the install report's %post runs, besides a POSIX shell (busybox ash in the tests'
// stand-in installer: no bashisms).
const std::vector<std::string> install_report_packages = {"curl", "openssl"};

// The install report: the last %post, chrooted into the installed system (its curl and
// openssl). Its message and endpoints are provision/service.hpp's.
std::string install_report_section(const std::string& node, const InstallReport& report) {
    return std::string("%post --log=/root/airstrap-install-report.log\n") + install_report_marker +
           "\n"
           "# Tells the PXE service ('airstrap serve') that this node is installed, so that "
           "its next\n"
           "# network boot boots the local disk instead of installing it again. The key below "
           "is the\n"
           "# node's install report key, derived one way from its node key: it lets its holder "
           "say\n"
           "# \"" +
           node +
           " is installed\" and nothing else. No --erroronfail: the install itself\n"
           "# succeeded; a report that fails leaves the node in build (its next network boot "
           "installs\n"
           "# it again), which 'airstrap serve DIR --status' shows.\n"
           "node='" +
           node +
           "'\n"
           "url='" +
           report.url +
           "'\n"
           "key='" +
           crypto::to_hex(report.key) +
           "'\n"
           "report_fail() {\n"
           "    echo \"airstrap: the install report of $node to ${url}airstrap/v1/ failed: $*\" "
           "| tee /dev/console >&2\n"
           "    exit 1\n"
           "}\n"
           "is_hex64() {\n"
           "    case \"$1\" in *[!0-9a-f]*|'') return 1 ;; esac\n"
           "    [ \"${#1}\" -eq 64 ]\n"
           "}\n"
           "for tool in curl openssl; do\n"
           "    command -v \"$tool\" >/dev/null 2>&1 ||\n"
           "        report_fail \"the installed system has no $tool (this kickstart's %packages "
           "lists it)\"\n"
           "done\n"
           "# A nonce (single use) from the service, the HMAC of the report over it, the report; "
           "all\n"
           "# again, with a fresh nonce, while either step fails, except a refused report (HTTP "
           "4xx).\n"
           "try=1\n"
           "while :; do\n"
           "    if nonce=$(curl -fsS --connect-timeout 5 --max-time 10 "
           "\"${url}airstrap/v1/nonce?node=$node\"); then\n"
           "        is_hex64 \"$nonce\" || report_fail \"the service's nonce is not 64 hex "
           "digits\"\n"
           "        time=$(date +%s)\n"
           "        mac=$(printf 'airstrap install report v1\\n%s\\n%s\\n%s' \"$node\" \"$nonce\" "
           "\"$time\" |\n"
           "            openssl dgst -sha256 -mac HMAC -macopt \"hexkey:$key\" | sed 's/^.*= "
           "*//')\n"
           "        is_hex64 \"$mac\" || report_fail \"openssl computed no HMAC-SHA256: $mac\"\n"
           "        code=$(curl -sS --connect-timeout 5 --max-time 10 -o "
           "/tmp/airstrap-report.answer "
           "-w '%{http_code}' \\\n"
           "            --data \"node=$node&nonce=$nonce&time=$time&mac=$mac\" "
           "\"${url}airstrap/v1/installed\")\n"
           "        case \"$code\" in\n"
           "            200)\n"
           "                echo \"airstrap: $node reported installed to "
           "${url}airstrap/v1/installed\"\n"
           "                exit 0\n"
           "                ;;\n"
           "            4*) report_fail \"the service refused the report (HTTP $code: $(head -c "
           "200 "
           "/tmp/airstrap-report.answer)); see 'airstrap serve DIR --status' and its log\" ;;\n"
           "        esac\n"
           "        why=\"no answer to the report (HTTP ${code:-000})\"\n"
           "    else\n"
           "        why=\"no nonce from ${url}airstrap/v1/nonce (curl exited $?; is 'airstrap "
           "serve' "
           "running, and $node in build?)\"\n"
           "    fi\n"
           "    [ \"$try\" -ge 4 ] && report_fail \"$why, $try tries\"\n"
           "    try=$((try + 1))\n"
           "    sleep 2\n"
           "done\n"
           "%end\n";
}

// A kickstart for `nodes`: a role profile (role, that role's nodes), the site profile (no
// role, every node) or one node's own (role, that node; `node_kickstart`).
std::string render(const Site& site, const site::Secrets& secrets, std::optional<Role> role,
                   const std::vector<const site::Node*>& nodes, bool node_kickstart,
                   const InstallReport* report = nullptr) {
    const Dialect& d = dialect_for(site.distro);
    std::vector<std::string> served;
    for (const site::Node* n : nodes) {
        std::vector<std::string> macs = n->macs();
        served.push_back(n->name +
                         (macs.empty() ? " (menu only)" : " (" + text::join(macs, ", ") + ")"));
    }
    std::string what, kind, holds;
    if (node_kickstart) {
        const site::Node& n = *nodes.front();
        what = "node " + n.name + " (" + site::to_string(n.role) + ")";
        kind = "node " + n.name;
        holds = "# Holds the root password hash and this node's own key" +
                std::string(n.role == Role::controller
                                ? ", the site secret and the deployment's passwords"
                                : "") +
                ", nothing of another node's:\n# serve it to this node only.\n\n";
    } else {
        what = role ? std::string(site::to_string(*role)) + " nodes" : std::string("every node");
        kind = kind_of_node(role);
        holds = "# Holds the root password hash and the keys of the nodes it serves" +
                std::string(has_controller(nodes) ? " and the site secret" : "") +
                ": for removable media;\n# keep it (and the media) as private as a key, never on "
                "a network share.\n\n";
    }
    std::string out = "# airstrap kickstart: " + what + " of site " + site.name + " (" +
                      site::to_string(site.distro) + ", pykickstart " + d.pykickstart_version +
                      ")\n"
                      "# Generated from the site file by 'airstrap kickstart'; edit the site "
                      "file, not this.\n"
                      "# Serves: " +
                      text::join(served, "; ") + "\n" + holds;
    if (d.install_command) out += "install\n";
    out +=
        "text\n"
        "eula --agreed\n"
        "firstboot --disabled\n"
        "reboot --eject\n"
        "skipx\n"
        "lang " +
        site.language +
        "\n"
        "keyboard --vckeymap=" +
        site.keyboard + " --xlayouts=" + site.keyboard +
        "\n"
        "timezone " +
        site.timezone + (site.rtc == site::Rtc::utc ? " --utc" : "") + "\n" + d.auth_line + "\n";
    out += "rootpw --iscrypted " + root_password_hash(secrets) + "\n";
    out += "selinux --" + std::string(site::to_string(site.security.selinux)) + "\n";
    out += site.security.firewalld ? "firewall --enabled --ssh\n" : "firewall --disabled\n";
    ServiceSet services = node_services(site);
    out += "services --enabled=" + text::join(services.enable, ",");
    if (!services.disable.empty()) out += " --disabled=" + text::join(services.disable, ",");
    out +=
        "\n"
        "# Network, host name and disk of the node that %pre recognised; the site repository.\n"
        "%include /tmp/airstrap/node.ks\n"
        "%include /tmp/airstrap/source.ks\n\n";
    if (role) {
        out += packages_section(site, *role,
                                report ? install_report_packages : std::vector<std::string>{}) +
               "\n";
    } else {
        out += "# The packages of the node's role.\n%include /tmp/airstrap/packages.ks\n\n";
    }
    out += pre_section(site, role, kind, nodes) + "\n";
    out += post_nochroot_section() + "\n";
    out += post_section(site, secrets, role, nodes);
    if (report) out += "\n" + install_report_section(nodes.front()->name, *report);
    return out;
}

}  // namespace

std::string render_kickstart(const Site& site, const site::Secrets& secrets,
                             std::optional<Role> role) {
    std::vector<const site::Node*> nodes;
    if (role) {
        nodes = site.nodes_with_role(*role);
    } else {
        for (const auto& n : site.nodes) nodes.push_back(&n);
    }
    return render(site, secrets, role, nodes, false);
}

std::string render_node_kickstart(const Site& site, const site::Secrets& secrets,
                                  const std::string& node,
                                  const std::optional<InstallReport>& report) {
    std::vector<std::string> names;
    for (const auto& n : site.nodes) {
        if (n.name == node) {
            return render(site, secrets, n.role, {&n}, true, report ? &*report : nullptr);
        }
        names.push_back(n.name);
    }
    throw InputError("'" + node + "' is not a node of site " + site.name +
                     "; its nodes: " + text::join(names, ", "));
}

std::filesystem::path node_kickstart_path(const std::string& node) {
    return std::filesystem::path(node_kickstart_dir) / (node + ".ks");
}

std::vector<std::filesystem::path> write_kickstarts(const Site& site, const site::Secrets& secrets,
                                                    const std::filesystem::path& dir,
                                                    KickstartSet which,
                                                    const std::string& install_report_url) {
    namespace fs = std::filesystem;
    // Render everything first: a failure then leaves no output at all.
    std::vector<std::pair<fs::path, std::string>> outputs;
    if (which != KickstartSet::per_node) {
        for (Role role : site::all_roles) {
            if (site.nodes_with_role(role).empty()) continue;
            outputs.emplace_back(dir / (std::string(site::to_string(role)) + ".ks"),
                                 render_kickstart(site, secrets, role));
        }
        outputs.emplace_back(dir / site_profile_name,
                             render_kickstart(site, secrets, std::nullopt));
    }
    if (which != KickstartSet::profiles) {
        for (const auto& n : site.nodes) {
            std::optional<InstallReport> report;
            if (!install_report_url.empty()) {
                report = InstallReport{install_report_url, node::install_report_key(node::node_key(
                                                               secrets.site_secret, n.name))};
            }
            outputs.emplace_back(dir / node_kickstart_path(n.name),
                                 render_node_kickstart(site, secrets, n.name, report));
        }
    }
    std::error_code ec;
    fs::path create = which == KickstartSet::profiles ? dir : dir / node_kickstart_dir;
    fs::create_directories(create, ec);
    if (ec) throw SystemError("cannot create " + create.string(), ec.value());
    std::vector<fs::path> written;
    for (const auto& [path, text] : outputs) {
        write_file_atomic(path, text, 0600);
        written.push_back(path);
    }
    if (which != KickstartSet::profiles) {
        // A node no longer in the site keeps no kickstart (with its key) here.
        for (const auto& e : fs::directory_iterator(dir / node_kickstart_dir)) {
            if (e.path().extension() != ".ks") continue;
            if (std::find(written.begin(), written.end(), e.path()) != written.end()) continue;
            fs::remove(e.path(), ec);
            if (ec) throw SystemError("cannot remove the stale " + e.path().string(), ec.value());
        }
    }
    return written;
}

}  // namespace airstrap::kickstart
