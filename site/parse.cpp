#include "site/parse.hpp"

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <sstream>
#include <tuple>

#include "common/text.hpp"
#include "site/syntax.hpp"
#include "site/yaml_reader.hpp"

namespace airstrap::site {

namespace {

class SiteParser {
  public:
    SiteParser(YamlReader& r, const std::filesystem::path& dir) : r_(r), dir_(dir) {}

    void parse(const YAML::Node& root, Site& site) {
        YamlMap top(r_, root, "",
                    {"site", "networks", "nodes", "media", "packages", "security", "time",
                     "firstboot", "qcow2", "openstack", "cloud", "ssh", "secrets"});
        if (!top.valid()) return;
        parse_site_section(top.require("site"), site);
        parse_networks(top.require("networks"), site);
        parse_nodes(top.require("nodes"), site);
        if (auto n = top.get("media"); n.IsDefined()) parse_media(n, site.media);
        if (auto n = top.get("packages"); n.IsDefined()) parse_packages(n, site.packages);
        if (auto n = top.get("security"); n.IsDefined()) parse_security(n, site.security);
        if (auto n = top.get("time"); n.IsDefined()) parse_time(n, site.time);
        if (auto n = top.get("firstboot"); n.IsDefined()) parse_firstboot(n, site.firstboot);
        if (auto n = top.get("qcow2"); n.IsDefined()) parse_qcow2(n, site.qcow2);
        parse_openstack(top.require("openstack"), site.openstack);
        // After openstack: a user's default role depends on the release.
        if (auto n = top.get("cloud"); n.IsDefined() && !n.IsNull())
            parse_cloud(n, site.openstack.release, site.cloud);
        if (auto n = top.get("ssh"); n.IsDefined()) parse_ssh(n, site.ssh);
        site.secrets_path = dir_ / "secrets.yaml";
        if (auto n = top.get("secrets"); n.IsDefined()) {
            if (auto s = r_.string(n, "'secrets'")) site.secrets_path = dir_ / *s;
        }
        site.secrets_path = site.secrets_path.lexically_normal();
    }

  private:
    void parse_site_section(const YAML::Node& node, Site& site) {
        YamlMap m(r_, node, "site",
                  {"name", "domain", "distro", "timezone", "rtc", "language", "keyboard"});
        if (!m.valid()) return;
        if (auto n = m.require("name"); n.IsDefined()) {
            if (auto s = r_.string(n, "'site.name'")) {
                if (!is_valid_hostname(*s)) {
                    r_.diag().error(location_of(n), "site name '" + *s +
                                                        "' must be letters, digits and hyphens "
                                                        "(it names files and labels)");
                }
                site.name = *s;
            }
        }
        if (auto n = m.require("domain"); n.IsDefined()) {
            if (auto s = r_.string(n, "'site.domain'")) {
                if (!is_valid_domain(*s)) {
                    r_.diag().error(location_of(n),
                                    "'" + *s +
                                        "' is not a valid DNS domain (RFC 1123 labels "
                                        "separated by dots)");
                }
                site.domain = *s;
            }
        }
        if (auto n = m.require("distro"); n.IsDefined()) {
            site.distro_at = location_of(n);
            if (auto d = r_.choice<Distro>(
                    n, "'site.distro'",
                    {{"el7", Distro::el7}, {"el8", Distro::el8}, {"el9", Distro::el9}})) {
                site.distro = *d;
            }
        }
        if (auto n = m.get("timezone"); n.IsDefined()) {
            site.timezone_at = location_of(n);
            if (auto s = r_.string(n, "'site.timezone'")) site.timezone = *s;
        }
        if (auto n = m.get("rtc"); n.IsDefined()) {
            if (auto v =
                    r_.choice<Rtc>(n, "'site.rtc'", {{"utc", Rtc::utc}, {"local", Rtc::local}}))
                site.rtc = *v;
        }
        if (auto n = m.get("language"); n.IsDefined()) {
            if (auto s = r_.string(n, "'site.language'")) {
                if (!is_locale_name(*s)) {
                    r_.diag().error(location_of(n), "'" + *s +
                                                        "' is not a locale such as "
                                                        "en_US.UTF-8 or zh_CN.UTF-8");
                }
                site.language = *s;
            }
        }
        if (auto n = m.get("keyboard"); n.IsDefined()) {
            if (auto s = r_.string(n, "'site.keyboard'")) {
                if (!is_keyboard_layout(*s)) {
                    r_.diag().error(location_of(n), "'" + *s +
                                                        "' is not a keyboard layout "
                                                        "such as us or de-nodeadkeys");
                }
                site.keyboard = *s;
            }
        }
    }

    void parse_networks(const YAML::Node& node, Site& site) {
        if (!node.IsDefined()) return;
        if (!node.IsMap()) {
            r_.diag().error(location_of(node),
                            "expected a mapping of network name to network for 'networks'");
            return;
        }
        YamlMap names(r_, node, "networks", {});  // reports duplicates; keys checked below
        for (auto it = node.begin(); it != node.end(); ++it) {
            if (!it->first.IsScalar()) continue;
            Network net;
            net.name = it->first.Scalar();
            net.where = location_of(it->first);
            bool duplicate = false;
            for (const auto& other : site.networks) duplicate = duplicate || other.name == net.name;
            if (duplicate) continue;  // already reported
            if (!is_valid_hostname(net.name)) {
                r_.diag().error(net.where, "network name '" + net.name +
                                               "' must be letters, digits and hyphens");
            }
            parse_network(it->second, net);
            site.networks.push_back(std::move(net));
        }
    }

    void parse_network(const YAML::Node& node, Network& net) {
        std::string what = "networks." + net.name;
        YamlMap m(r_, node, what, {"purpose", "cidr", "gateway", "dns", "mtu"});
        if (!m.valid()) return;
        if (auto n = m.require("purpose"); n.IsDefined()) {
            if (auto p = r_.choice<NetworkPurpose>(n, "'" + m.path("purpose") + "'",
                                                   {{"management", NetworkPurpose::management},
                                                    {"external", NetworkPurpose::external},
                                                    {"tenant", NetworkPurpose::tenant},
                                                    {"storage", NetworkPurpose::storage}})) {
                net.purpose = *p;
            }
        }
        if (auto n = m.require("cidr"); n.IsDefined()) {
            net.cidr_at = location_of(n);
            if (auto s = r_.string(n, "'" + m.path("cidr") + "'")) {
                std::string error;
                if (auto c = Cidr::parse(*s, error)) {
                    net.cidr = *c;
                } else {
                    r_.diag().error(net.cidr_at, error);
                }
            }
        }
        if (auto n = m.get("gateway"); n.IsDefined() && !n.IsNull()) {
            net.gateway_at = location_of(n);
            net.gateway = address(n, m.path("gateway"));
        }
        for (const auto& [s, item] : r_.string_list(m.get("dns"), "'" + m.path("dns") + "'")) {
            if (auto ip = address(item, m.path("dns"))) net.dns.push_back(*ip);
        }
        if (auto n = m.get("mtu"); n.IsDefined()) {
            if (auto v = r_.integer(n, "'" + m.path("mtu") + "'", 1280, 9216))
                net.mtu = static_cast<int>(*v);
        }
    }

    std::optional<Ipv4> address(const YAML::Node& n, const std::string& what) {
        auto s = r_.string(n, "'" + what + "'");
        if (!s) return std::nullopt;
        auto ip = Ipv4::parse(*s);
        if (!ip) {
            r_.diag().error(location_of(n), "'" + *s +
                                                "' is not an IPv4 address (expected four "
                                                "numbers 0-255 such as 192.168.111.10)");
        }
        return ip;
    }

    void parse_nodes(const YAML::Node& node, Site& site) {
        if (!node.IsDefined()) return;
        site.nodes_at = location_of(node);
        if (!r_.is_sequence(node, "'nodes'")) return;
        std::size_t index = 0;
        for (const auto& item : node) {
            Node n;
            n.where = location_of(item);
            parse_node(item, index++, n);
            site.nodes.push_back(std::move(n));
        }
    }

    void parse_node(const YAML::Node& node, std::size_t index, Node& out) {
        std::string what = "nodes[" + std::to_string(index) + "]";
        YamlMap m(r_, node, what, {"name", "role", "interfaces", "disk", "nested_virtualization"});
        if (!m.valid()) return;
        if (auto n = m.require("name"); n.IsDefined()) {
            out.name_at = location_of(n);
            if (auto s = r_.string(n, "'" + m.path("name") + "'")) {
                out.name = *s;
                if (!is_valid_hostname(*s)) {
                    r_.diag().error(out.name_at,
                                    "node name '" + *s +
                                        "' is not a valid host name (RFC 1123: "
                                        "letters, digits and hyphens, at most 63, no leading or "
                                        "trailing hyphen)");
                }
            }
        }
        if (auto n = m.require("role"); n.IsDefined()) {
            if (auto role = r_.choice<Role>(n, "'" + m.path("role") + "'",
                                            {{"controller", Role::controller},
                                             {"network", Role::network},
                                             {"compute", Role::compute}})) {
                out.role = *role;
            }
        }
        if (auto n = m.get("disk"); n.IsDefined()) {
            if (auto s = r_.string(n, "'" + m.path("disk") + "'")) {
                bool by_path = s->starts_with("/dev/disk/by-") &&
                               s->find_first_not_of(
                                   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
                                   "QRSTUVWXYZ0123456789/._:-") == std::string::npos &&
                               s->find("..") == std::string::npos;
                if (!is_valid_interface_name(*s) && !by_path) {
                    r_.diag().error(location_of(n), "disk '" + *s +
                                                        "' should be a kernel name such as sda or "
                                                        "vda, or a /dev/disk/by-… path");
                }
                out.disk = *s;
                if (out.disk.starts_with("/dev/") && !out.disk.starts_with("/dev/disk/")) {
                    out.disk = out.disk.substr(5);
                }
            }
        }
        if (auto n = m.get("nested_virtualization"); n.IsDefined()) {
            if (auto b = r_.boolean(n, "'" + m.path("nested_virtualization") + "'"))
                out.nested_virtualization = *b;
        }
        if (auto n = m.require("interfaces"); n.IsDefined()) {
            if (!r_.is_sequence(n, "'" + m.path("interfaces") + "'")) return;
            std::size_t i = 0;
            for (const auto& item : n) {
                Interface iface;
                iface.where = location_of(item);
                parse_interface(item, m.path("interfaces") + "[" + std::to_string(i++) + "]",
                                iface);
                out.interfaces.push_back(std::move(iface));
            }
        }
    }

    void parse_interface(const YAML::Node& node, const std::string& what, Interface& out) {
        YamlMap m(r_, node, what, {"name", "mac", "network", "address", "bridge"});
        if (!m.valid()) return;
        if (auto n = m.require("name"); n.IsDefined()) {
            out.name_at = location_of(n);
            if (auto s = r_.string(n, "'" + m.path("name") + "'")) {
                out.name = *s;
                if (!is_valid_interface_name(*s)) {
                    r_.diag().error(out.name_at, "'" + *s +
                                                     "' is not a valid interface name "
                                                     "(1-15 letters, digits, '.', '-', "
                                                     "'_', e.g. ens32)");
                }
            }
        }
        if (auto n = m.get("mac"); n.IsDefined()) {
            out.mac_at = location_of(n);
            if (auto s = r_.string(n, "'" + m.path("mac") + "'")) {
                std::string error;
                if (auto mac = parse_mac(*s, error)) {
                    out.mac = *mac;
                } else {
                    r_.diag().error(out.mac_at, error);
                }
            }
        }
        if (auto n = m.require("network"); n.IsDefined()) {
            out.network_at = location_of(n);
            if (auto s = r_.string(n, "'" + m.path("network") + "'")) out.network = *s;
        }
        if (auto n = m.get("address"); n.IsDefined() && !n.IsNull()) {
            out.address_at = location_of(n);
            out.address = address(n, m.path("address"));
        }
        if (auto n = m.get("bridge"); n.IsDefined()) {
            if (auto s = r_.string(n, "'" + m.path("bridge") + "'")) {
                if (!is_valid_interface_name(*s)) {
                    r_.diag().error(location_of(n), "'" + *s + "' is not a valid bridge name");
                }
                out.bridge = *s;
            }
        }
    }

    void parse_media(const YAML::Node& node, Media& media) {
        YamlMap m(r_, node, "media", {"vendor_iso", "repos", "gpg_keys", "require_signatures"});
        if (!m.valid()) return;
        if (auto n = m.get("vendor_iso"); n.IsDefined()) {
            media.vendor_iso_at = location_of(n);
            if (auto s = r_.string(n, "'media.vendor_iso'")) media.vendor_iso = resolve(*s);
        }
        for (const auto& [key, item] : r_.string_list(m.get("gpg_keys"), "'media.gpg_keys'")) {
            media.gpg_keys.push_back(resolve(key));
        }
        // Naming keys means wanting them enforced, unless the site says otherwise.
        media.require_signatures = !media.gpg_keys.empty();
        if (auto n = m.get("require_signatures"); n.IsDefined()) {
            if (auto b = r_.boolean(n, "'media.require_signatures'")) {
                media.require_signatures = *b;
                if (*b && media.gpg_keys.empty()) {
                    r_.diag().error(location_of(n),
                                    "require_signatures needs the keys to check "
                                    "against: list them in media.gpg_keys");
                }
            }
        }
        auto repos = m.get("repos");
        if (!repos.IsDefined() || repos.IsNull() || !r_.is_sequence(repos, "'media.repos'")) return;
        std::size_t i = 0;
        for (const auto& item : repos) {
            std::string what = "media.repos[" + std::to_string(i++) + "]";
            YamlMap rm(r_, item, what, {"name", "tarball", "directory", "url"});
            if (!rm.valid()) continue;
            RepoSource repo;
            repo.where = rm.where();
            if (auto n = rm.require("name"); n.IsDefined()) {
                if (auto s = r_.string(n, "'" + rm.path("name") + "'")) {
                    if (!is_valid_hostname(*s)) {
                        r_.diag().error(location_of(n), "repository name '" + *s +
                                                            "' must be letters, digits and "
                                                            "hyphens (it becomes a yum repo id)");
                    }
                    repo.name = *s;
                }
            }
            int kinds = 0;
            for (auto [key, kind] : {std::pair{"tarball", RepoSource::Kind::tarball},
                                     std::pair{"directory", RepoSource::Kind::directory},
                                     std::pair{"url", RepoSource::Kind::url}}) {
                auto n = rm.get(key);
                if (!n.IsDefined()) continue;
                ++kinds;
                auto s = r_.string(n, "'" + rm.path(key) + "'");
                if (!s) continue;
                repo.kind = kind;
                if (kind == RepoSource::Kind::url) {
                    if (!s->starts_with("http://") && !s->starts_with("https://") &&
                        !s->starts_with("file://")) {
                        r_.diag().error(location_of(n), "repository URL '" + *s +
                                                            "' must start with http://, "
                                                            "https:// or file://");
                    }
                    repo.location = *s;
                } else {
                    repo.location = resolve(*s);
                }
            }
            if (kinds != 1) {
                r_.diag().error(repo.where, "'" + what +
                                                "' needs exactly one of tarball, "
                                                "directory or url");
            }
            media.repos.push_back(std::move(repo));
        }
    }

    std::string resolve(const std::string& path) {
        std::filesystem::path p(path);
        return (p.is_absolute() ? p : dir_ / p).lexically_normal().string();
    }

    void parse_package_changes(const YAML::Node& node, const std::string& what,
                               PackageChanges& out) {
        YamlMap m(r_, node, what, {"add", "remove"});
        if (!m.valid()) return;
        out.where = m.where();
        for (auto [key, list] : {std::pair{"add", &out.add}, std::pair{"remove", &out.remove}}) {
            for (const auto& [name, item] : r_.string_list(m.get(key), "'" + m.path(key) + "'")) {
                if (name.empty() || name.find_first_of(" \t'\"\\;$`") != std::string::npos) {
                    r_.diag().error(location_of(item), "'" + name + "' is not a package name");
                    continue;
                }
                list->push_back(name);
            }
        }
    }

    void parse_packages(const YAML::Node& node, Packages& packages) {
        YamlMap m(r_, node, "packages",
                  {"common", "controller", "network", "compute", "weak_deps"});
        if (!m.valid()) return;
        if (auto n = m.get("weak_deps"); n.IsDefined()) {
            if (auto b = r_.boolean(n, "'packages.weak_deps'")) packages.weak_deps = *b;
        }
        if (auto n = m.get("common"); n.IsDefined())
            parse_package_changes(n, "packages.common", packages.common);
        for (Role role : all_roles) {
            if (auto n = m.get(to_string(role)); n.IsDefined())
                parse_package_changes(n, m.path(to_string(role)), packages.roles[role]);
        }
    }

    void parse_security(const YAML::Node& node, Security& sec) {
        YamlMap m(r_, node, "security", {"selinux", "firewalld", "network_manager"});
        if (!m.valid()) return;
        sec.where = m.where();
        if (auto n = m.get("selinux"); n.IsDefined()) {
            if (auto v = r_.choice<Selinux>(n, "'security.selinux'",
                                            {{"disabled", Selinux::disabled},
                                             {"permissive", Selinux::permissive},
                                             {"enforcing", Selinux::enforcing}}))
                sec.selinux = *v;
        }
        if (auto n = m.get("firewalld"); n.IsDefined()) {
            if (auto b = r_.boolean(n, "'security.firewalld'")) sec.firewalld = *b;
        }
        if (auto n = m.get("network_manager"); n.IsDefined()) {
            sec.network_manager_at = location_of(n);
            if (auto b = r_.boolean(n, "'security.network_manager'")) sec.network_manager = *b;
        }
    }

    void parse_time(const YAML::Node& node, TimeSync& time) {
        YamlMap m(r_, node, "time", {"upstream", "stratum"});
        if (!m.valid()) return;
        for (const auto& [server, item] : r_.string_list(m.get("upstream"), "'time.upstream'")) {
            if (!Ipv4::parse(server) && !is_valid_domain(server)) {
                r_.diag().error(location_of(item),
                                "'" + server + "' is neither an IPv4 address nor a host name");
                continue;
            }
            time.upstream.push_back(server);
        }
        if (auto n = m.get("stratum"); n.IsDefined()) {
            if (auto v = r_.integer(n, "'time.stratum'", 1, 15))
                time.stratum = static_cast<int>(*v);
        }
    }

    void parse_firstboot(const YAML::Node& node, Firstboot& fb) {
        YamlMap m(r_, node, "firstboot", {"port", "barrier_timeout", "sync_timeout"});
        if (!m.valid()) return;
        if (auto n = m.get("port"); n.IsDefined()) {
            if (auto v = r_.integer(n, "'firstboot.port'", 1, 65535))
                fb.port = static_cast<int>(*v);
        }
        if (auto n = m.get("barrier_timeout"); n.IsDefined()) {
            if (auto v = r_.integer(n, "'firstboot.barrier_timeout' (seconds)", 10, 7 * 86400))
                fb.barrier_timeout = static_cast<int>(*v);
        }
        if (auto n = m.get("sync_timeout"); n.IsDefined()) {
            if (auto v = r_.integer(n, "'firstboot.sync_timeout' (seconds)", 5, 86400))
                fb.sync_timeout = static_cast<int>(*v);
        }
    }

    void parse_qcow2(const YAML::Node& node, Qcow2& q) {
        YamlMap m(r_, node, "qcow2", {"size", "profile", "compress"});
        if (!m.valid()) return;
        if (auto n = m.get("size"); n.IsDefined()) {
            if (auto s = r_.string(n, "'qcow2.size'")) {
                std::string digits = *s;
                if (!digits.empty() && digits.back() == 'G') digits.pop_back();
                auto v = text::parse_int(digits);
                if (!v || *v < 4 || *v > 65536) {
                    r_.diag().error(location_of(n), "qcow2 size '" + *s +
                                                        "' must be whole gigabytes from 4G to "
                                                        "65536G, such as 20G");
                } else {
                    q.size_gib = static_cast<int>(*v);
                }
            }
        }
        if (auto n = m.get("profile"); n.IsDefined()) {
            if (auto s = r_.string(n, "'qcow2.profile'")) q.profile = *s;
        }
        if (auto n = m.get("compress"); n.IsDefined()) {
            if (auto b = r_.boolean(n, "'qcow2.compress'")) q.compress = *b;
        }
    }

    void parse_openstack(const YAML::Node& node, OpenStack& os) {
        if (!node.IsDefined()) return;
        YamlMap m(
            r_, node, "openstack",
            {"deployer", "release", "l2_agent", "services", "cinder_volumes_size", "answers"});
        if (!m.valid()) return;
        os.where = m.where();
        if (auto n = m.get("deployer"); n.IsDefined()) {
            if (r_.choice<int>(n, "'openstack.deployer'", {{"packstack", 0}}))
                os.deployer = "packstack";
        }
        if (auto n = m.require("release"); n.IsDefined()) {
            os.release_at = location_of(n);
            if (auto s = r_.string(n, "'openstack.release'")) os.release = *s;
        }
        if (auto n = m.get("l2_agent"); n.IsDefined()) {
            os.l2_agent_at = location_of(n);
            if (auto v = r_.choice<L2Agent>(
                    n, "'openstack.l2_agent'",
                    {{"openvswitch", L2Agent::openvswitch}, {"ovn", L2Agent::ovn}}))
                os.l2_agent = *v;
        }
        if (auto n = m.get("services"); n.IsDefined() && !n.IsNull()) {
            if (!n.IsMap()) {
                r_.diag().error(location_of(n),
                                "expected a mapping of service name to true/false "
                                "for 'openstack.services'");
            } else {
                YamlMap dup_check(r_, n, "openstack.services", {});
                (void)dup_check;
                for (auto it = n.begin(); it != n.end(); ++it) {
                    if (!it->first.IsScalar()) continue;
                    std::string name = it->first.Scalar();
                    if (os.services.contains(name)) continue;
                    if (auto b = r_.boolean(it->second, "'openstack.services." + name + "'")) {
                        os.services[name] = *b;
                        os.service_at[name] = location_of(it->first);
                    }
                }
            }
        }
        if (auto n = m.get("cinder_volumes_size"); n.IsDefined()) {
            if (auto s = r_.string(n, "'openstack.cinder_volumes_size'")) {
                bool ok = s->size() >= 2 && s->back() == 'G' && (*s)[0] != '0';
                for (std::size_t i = 0; ok && i + 1 < s->size(); ++i)
                    ok = std::isdigit(static_cast<unsigned char>((*s)[i])) != 0;
                if (!ok) {
                    r_.diag().error(location_of(n), "cinder volume size '" + *s +
                                                        "' must be whole gigabytes such as 10G "
                                                        "(Packstack accepts only that form)");
                }
                os.cinder_volumes_size = *s;
            }
        }
        if (auto n = m.get("answers"); n.IsDefined() && !n.IsNull()) {
            if (!n.IsMap()) {
                r_.diag().error(location_of(n),
                                "expected a mapping of CONFIG_… key to value for "
                                "'openstack.answers'");
                return;
            }
            YamlMap dup_check(r_, n, "openstack.answers", {});
            (void)dup_check;
            for (auto it = n.begin(); it != n.end(); ++it) {
                if (!it->first.IsScalar()) continue;
                AnswerOverride a;
                a.key = it->first.Scalar();
                a.where = location_of(it->first);
                bool seen = false;
                for (const auto& other : os.answers) seen = seen || other.key == a.key;
                if (seen) continue;
                if (auto v = r_.string(it->second, "'openstack.answers." + a.key + "'")) {
                    if (v->find('\n') != std::string::npos) {
                        r_.diag().error(location_of(it->second),
                                        "answer-file values are single lines");
                        continue;
                    }
                    a.value = *v;
                    os.answers.push_back(std::move(a));
                }
            }
        }
    }

    // ---- cloud: day-1 resources ----------------------------------------------------------

    // Names go to the openstack CLI as arguments: plain words, never option-like.
    std::optional<std::string> cloud_name(const YAML::Node& n, const std::string& what) {
        auto s = r_.string(n, "'" + what + "'");
        if (!s) return std::nullopt;
        bool ok = !s->empty() && s->size() <= 64 &&
                  (std::isalnum(static_cast<unsigned char>((*s)[0])) != 0 || (*s)[0] == '_') &&
                  s->find_first_not_of(
                      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789._-@") == std::string::npos;
        if (!ok) {
            r_.diag().error(location_of(n), "'" + *s + "' is not a name airstrap accepts for '" +
                                                what +
                                                "' (1-64 letters, digits, '.', '_', '-', '@', "
                                                "starting with a letter, digit or '_')");
            return std::nullopt;
        }
        return s;
    }

    void parse_cloud(const YAML::Node& node, const std::string& release, Cloud& cloud) {
        YamlMap m(
            r_, node, "cloud",
            {"external_network", "networks", "routers", "flavors", "images", "projects", "users"});
        if (!m.valid()) return;
        cloud.where = m.where();
        if (auto n = m.get("external_network"); n.IsDefined() && !n.IsNull()) {
            cloud.external_network.emplace();
            parse_external_network(n, *cloud.external_network);
        }
        auto each = [&](const char* key, auto&& parse_one) {
            auto list = m.get(key);
            if (!list.IsDefined() || list.IsNull()) return;
            if (!r_.is_sequence(list, "'" + m.path(key) + "'")) return;
            std::size_t i = 0;
            for (const auto& item : list) {
                parse_one(item, m.path(key) + "[" + std::to_string(i++) + "]");
            }
        };
        each("networks", [&](const YAML::Node& item, const std::string& what) {
            CloudNetwork net;
            net.where = location_of(item);
            if (parse_cloud_network(item, what, net)) cloud.networks.push_back(std::move(net));
        });
        each("routers", [&](const YAML::Node& item, const std::string& what) {
            CloudRouter router;
            router.where = location_of(item);
            if (parse_router(item, what, router)) cloud.routers.push_back(std::move(router));
        });
        each("flavors", [&](const YAML::Node& item, const std::string& what) {
            CloudFlavor flavor;
            flavor.where = location_of(item);
            if (parse_flavor(item, what, flavor)) cloud.flavors.push_back(std::move(flavor));
        });
        each("images", [&](const YAML::Node& item, const std::string& what) {
            CloudImage image;
            image.where = location_of(item);
            if (parse_image(item, what, image)) cloud.images.push_back(std::move(image));
        });
        each("projects", [&](const YAML::Node& item, const std::string& what) {
            CloudProject project;
            project.where = location_of(item);
            if (parse_project(item, what, project)) cloud.projects.push_back(std::move(project));
        });
        each("users", [&](const YAML::Node& item, const std::string& what) {
            CloudUser user;
            user.where = location_of(item);
            user.role = default_member_role(release);
            if (parse_user(item, what, user)) cloud.users.push_back(std::move(user));
        });
    }

    // The name key of a cloud item, required; false when the item cannot be used.
    bool named(const YamlMap& m, std::string& name, SourceLocation& at) {
        auto n = m.require("name");
        if (!n.IsDefined()) return false;
        at = location_of(n);
        auto s = cloud_name(n, m.path("name"));
        if (!s) return false;
        name = *s;
        return true;
    }

    void optional_name(const YamlMap& m, const char* key, std::string& out, SourceLocation& at) {
        if (auto n = m.get(key); n.IsDefined()) {
            at = location_of(n);
            if (auto s = cloud_name(n, m.path(key))) out = *s;
        }
    }

    void parse_external_network(const YAML::Node& node, CloudExternalNetwork& out) {
        YamlMap m(
            r_, node, "cloud.external_network",
            {"name", "network", "physical_network", "subnet", "allocation_pool", "gateway", "dns"});
        if (!m.valid()) return;
        out.where = m.where();
        if (named(m, out.name, out.name_at)) out.subnet = out.name + "_subnet";
        if (auto n = m.require("network"); n.IsDefined()) {
            out.network_at = location_of(n);
            if (auto s = r_.string(n, "'" + m.path("network") + "'")) out.network = *s;
        }
        if (auto n = m.get("physical_network"); n.IsDefined()) {
            out.physical_network_at = location_of(n);
            if (auto s = r_.string(n, "'" + m.path("physical_network") + "'")) {
                bool plain = !s->empty() && s->size() <= 64 &&
                             s->find_first_not_of(
                                 "abcdefghijklmnopqrstuvwxyz"
                                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == std::string::npos;
                if (!plain) {
                    r_.diag().error(out.physical_network_at,
                                    "physical network '" + *s +
                                        "' must be a plain name such as extnet (letters, digits, "
                                        "'_', '-'): it names a bridge mapping");
                } else {
                    out.physical_network = *s;
                }
            }
        }
        optional_name(m, "subnet", out.subnet, out.subnet_at);
        if (auto n = m.get("allocation_pool"); n.IsDefined() && !n.IsNull()) {
            out.allocation_pool_at = location_of(n);
            if (auto s = r_.string(n, "'" + m.path("allocation_pool") + "'")) {
                auto dash = s->find('-');
                std::optional<Ipv4> start, end;
                if (dash != std::string::npos) {
                    start = Ipv4::parse(text::trim(s->substr(0, dash)));
                    end = Ipv4::parse(text::trim(s->substr(dash + 1)));
                }
                if (!start || !end) {
                    r_.diag().error(out.allocation_pool_at, "'" + *s +
                                                                "' is not an address range such as "
                                                                "192.168.222.100-192.168.222.200");
                } else {
                    out.allocation_pool = {{*start, *end}};
                }
            }
        }
        if (auto n = m.get("gateway"); n.IsDefined() && !n.IsNull()) {
            out.gateway_at = location_of(n);
            out.gateway = address(n, m.path("gateway"));
        }
        for (const auto& [s, item] : r_.string_list(m.get("dns"), "'" + m.path("dns") + "'")) {
            if (auto ip = address(item, m.path("dns"))) out.dns.push_back(*ip);
        }
    }

    bool parse_cloud_network(const YAML::Node& node, const std::string& what, CloudNetwork& out) {
        YamlMap m(r_, node, what, {"name", "cidr", "subnet", "gateway", "dns", "project"});
        if (!m.valid()) return false;
        bool ok = named(m, out.name, out.name_at);
        if (ok) out.subnet = out.name + "_subnet";
        optional_name(m, "subnet", out.subnet, out.subnet_at);
        if (auto n = m.require("cidr"); n.IsDefined()) {
            out.cidr_at = location_of(n);
            if (auto s = r_.string(n, "'" + m.path("cidr") + "'")) {
                std::string error;
                if (auto c = Cidr::parse(*s, error)) {
                    out.cidr = *c;
                } else {
                    r_.diag().error(out.cidr_at, error);
                    ok = false;
                }
            }
        } else {
            ok = false;
        }
        if (auto n = m.get("gateway"); n.IsDefined() && !n.IsNull()) {
            out.gateway_at = location_of(n);
            out.gateway = address(n, m.path("gateway"));
        }
        for (const auto& [s, item] : r_.string_list(m.get("dns"), "'" + m.path("dns") + "'")) {
            if (auto ip = address(item, m.path("dns"))) out.dns.push_back(*ip);
        }
        optional_name(m, "project", out.project, out.project_at);
        return ok;
    }

    bool parse_router(const YAML::Node& node, const std::string& what, CloudRouter& out) {
        YamlMap m(r_, node, what, {"name", "external_gateway", "subnets", "project"});
        if (!m.valid()) return false;
        bool ok = named(m, out.name, out.name_at);
        if (auto n = m.get("external_gateway"); n.IsDefined()) {
            out.external_gateway_at = location_of(n);
            if (auto b = r_.boolean(n, "'" + m.path("external_gateway") + "'"))
                out.external_gateway = *b;
        }
        for (const auto& [s, item] :
             r_.string_list(m.get("subnets"), "'" + m.path("subnets") + "'")) {
            out.subnets.push_back(s);
            out.subnet_at.push_back(location_of(item));
        }
        optional_name(m, "project", out.project, out.project_at);
        return ok;
    }

    bool parse_flavor(const YAML::Node& node, const std::string& what, CloudFlavor& out) {
        YamlMap m(r_, node, what, {"name", "vcpus", "ram", "disk", "public"});
        if (!m.valid()) return false;
        bool ok = named(m, out.name, out.name_at);
        for (auto [key, field, max, unit] :
             {std::tuple{"vcpus", &out.vcpus, 1024LL, ""},
              std::tuple{"ram", &out.ram, 16LL * 1024 * 1024, " (MiB)"},
              std::tuple{"disk", &out.disk, 1024LL * 1024, " (GiB)"}}) {
            if (auto n = m.get(key); n.IsDefined()) {
                if (auto v = r_.integer(n, "'" + m.path(key) + "'" + unit, 1, max))
                    *field = static_cast<int>(*v);
            }
        }
        if (auto n = m.get("public"); n.IsDefined()) {
            if (auto b = r_.boolean(n, "'" + m.path("public") + "'")) out.is_public = *b;
        }
        return ok;
    }

    bool parse_image(const YAML::Node& node, const std::string& what, CloudImage& out) {
        YamlMap m(r_, node, what, {"name", "source", "disk_format", "public"});
        if (!m.valid()) return false;
        bool ok = named(m, out.name, out.name_at);
        if (auto n = m.require("source"); n.IsDefined()) {
            out.source_at = location_of(n);
            if (auto s = r_.string(n, "'" + m.path("source") + "'")) {
                std::string base = std::filesystem::path(*s).filename().string();
                bool plain = !base.empty() && base[0] != '.' && base[0] != '-' &&
                             base.find_first_not_of(
                                 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789._+-") == std::string::npos;
                if (!plain) {
                    r_.diag().error(out.source_at,
                                    "image file name '" + base +
                                        "' must be letters, digits, '.', '_', '+', '-' (it "
                                        "names the copy in the site repository)");
                    ok = false;
                } else {
                    out.source = resolve(*s);
                }
            } else {
                ok = false;
            }
        } else {
            ok = false;
        }
        if (auto n = m.get("disk_format"); n.IsDefined()) {
            if (auto v = r_.choice<const char*>(n, "'" + m.path("disk_format") + "'",
                                                {{"qcow2", "qcow2"},
                                                 {"raw", "raw"},
                                                 {"vmdk", "vmdk"},
                                                 {"vdi", "vdi"},
                                                 {"iso", "iso"},
                                                 {"ami", "ami"}}))
                out.disk_format = *v;
        }
        if (auto n = m.get("public"); n.IsDefined()) {
            if (auto b = r_.boolean(n, "'" + m.path("public") + "'")) out.is_public = *b;
        }
        return ok;
    }

    bool parse_project(const YAML::Node& node, const std::string& what, CloudProject& out) {
        YamlMap m(r_, node, what, {"name", "description"});
        if (!m.valid()) return false;
        bool ok = named(m, out.name, out.name_at);
        if (auto n = m.get("description"); n.IsDefined()) {
            if (auto s = r_.string(n, "'" + m.path("description") + "'")) {
                bool line = s->size() <= 255 && std::none_of(s->begin(), s->end(), [](char c) {
                                return static_cast<unsigned char>(c) < 0x20;
                            });
                if (!line) {
                    r_.diag().error(location_of(n),
                                    "a project description is one line of at most 255 "
                                    "characters");
                } else {
                    out.description = *s;
                }
            }
        }
        return ok;
    }

    bool parse_user(const YAML::Node& node, const std::string& what, CloudUser& out) {
        YamlMap m(r_, node, what, {"name", "project", "role"});
        if (!m.valid()) return false;
        bool ok = named(m, out.name, out.name_at);
        if (auto n = m.require("project"); n.IsDefined()) {
            out.project_at = location_of(n);
            if (auto s = cloud_name(n, m.path("project"))) out.project = *s;
        } else {
            ok = false;
        }
        if (auto n = m.get("role"); n.IsDefined()) {
            if (auto s = cloud_name(n, m.path("role"))) out.role = *s;
        }
        return ok;
    }

    void parse_ssh(const YAML::Node& node, Ssh& ssh) {
        YamlMap m(r_, node, "ssh", {"authorized_keys"});
        if (!m.valid()) return;
        for (const auto& [key, item] :
             r_.string_list(m.get("authorized_keys"), "'ssh.authorized_keys'")) {
            static const char* const types[] = {"ssh-ed25519 ",
                                                "ssh-rsa ",
                                                "ecdsa-sha2-nistp256 ",
                                                "ecdsa-sha2-nistp384 ",
                                                "ecdsa-sha2-nistp521 ",
                                                "sk-ssh-ed25519@openssh.com ",
                                                "sk-ecdsa-sha2-nistp256@openssh.com "};
            bool ok = false;
            for (const char* t : types) ok = ok || key.starts_with(t);
            if (!ok || key.find('\n') != std::string::npos ||
                key.find("PRIVATE KEY") != std::string::npos) {
                r_.diag().error(location_of(item),
                                "expected an OpenSSH public key line (ssh-ed25519 AAAA… comment)");
                continue;
            }
            ssh.authorized_keys.push_back(key);
        }
    }

    YamlReader& r_;
    std::filesystem::path dir_;
};

// yaml-cpp says what it was looking for; add what the user most likely did wrong.
void report_yaml_error(const YAML::Exception& e, const SourceFile& source, Diagnostics& diag) {
    SourceLocation where{};
    if (e.mark.line >= 0) where = {e.mark.line + 1, e.mark.column + 1};
    std::string message = "YAML syntax: " + e.msg;
    std::string_view line = source.line(where.line);
    std::string_view indent = line.substr(0, line.find_first_not_of(" \t"));
    if (indent.find('\t') != std::string_view::npos) {
        message += " (this line is indented with a tab; YAML indents with spaces only)";
    } else if (e.msg == YAML::ErrorMsg::END_OF_SEQ_FLOW) {
        message += " (a '[' list above is not closed with ']')";
    } else if (e.msg == YAML::ErrorMsg::END_OF_MAP_FLOW) {
        message += " (a '{' mapping above is not closed with '}')";
    } else if (e.msg == YAML::ErrorMsg::UNKNOWN_ANCHOR) {
        message += " (a '*name' alias needs an '&name' anchor earlier in the file)";
    } else if (e.msg == YAML::ErrorMsg::END_OF_MAP || e.msg == YAML::ErrorMsg::BLOCK_ENTRY) {
        message += " (check the indentation of this line against the lines above)";
    }
    diag.error(where, message);
}

// Where a second YAML document starts, if there is one. yaml-cpp 0.7's LoadAll can loop
// forever on malformed input (a stray ',' makes it yield empty documents without end,
// yaml-cpp issue 1040), so documents are counted through the event parser, at most two.
std::optional<SourceLocation> find_second_document(const std::string& text) {
    struct DocumentStarts : YAML::EventHandler {
        std::vector<YAML::Mark> starts;
        void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
        void OnDocumentEnd() override {}
        void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
        void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
        void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                      const std::string&) override {}
        void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                             YAML::EmitterStyle::value) override {}
        void OnSequenceEnd() override {}
        void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                        YAML::EmitterStyle::value) override {}
        void OnMapEnd() override {}
    } handler;
    std::istringstream in(text);
    YAML::Parser parser(in);
    for (int i = 0; i < 2 && parser.HandleNextDocument(handler); ++i) {
    }
    if (handler.starts.size() < 2) return std::nullopt;
    return SourceLocation{handler.starts[1].line + 1, handler.starts[1].column + 1};
}

}  // namespace

Site parse_site(const SourceFile& source, const std::filesystem::path& site_dir,
                Diagnostics& diag) {
    Site site;
    if (auto bad = text::find_invalid_utf8(source.text)) {
        auto lc = text::line_column_at(source.text, *bad);
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned char>(source.text[*bad]));
        diag.error({lc.line, lc.column},
                   std::string("byte ") + hex + " is not UTF-8; save the site file as UTF-8");
        return site;
    }
    if (source.text.find('\0') != std::string::npos) {
        auto lc = text::line_column_at(source.text, source.text.find('\0'));
        diag.error({lc.line, lc.column}, "NUL byte in a text file; is this the right file?");
        return site;
    }
    YAML::Node root;
    std::optional<SourceLocation> second_document;
    try {
        root = YAML::Load(source.text);
        second_document = find_second_document(source.text);
    } catch (const YAML::Exception& e) {
        report_yaml_error(e, source, diag);
        return site;
    }
    if (!root.IsDefined() || root.IsNull()) {
        // Only comments and blanks is an empty file; anything else is content yaml-cpp
        // could not read as a document (a stray ',' at the start, say).
        std::size_t content = text::first_content(source.text);
        if (content == std::string::npos) {
            diag.error({},
                       "the site file is empty; 'airstrap init DIR' writes a commented template");
        } else {
            auto lc = text::line_column_at(source.text, content);
            diag.error({lc.line, lc.column},
                       "expected a mapping (key: value) for the site file; "
                       "this does not start one");
        }
        return site;
    }
    if (second_document) {
        diag.error(*second_document, "a site file holds one YAML document; found a second one");
    }
    site.file = source.path;
    YamlReader reader(diag, "the site file");
    try {
        SiteParser(reader, site_dir).parse(root, site);
    } catch (const YAML::Exception& e) {
        report_yaml_error(e, source, diag);
    }
    return site;
}

}  // namespace airstrap::site
