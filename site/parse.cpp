#include "site/parse.hpp"

#include <yaml-cpp/eventhandler.h>

#include <cctype>
#include <cstdio>
#include <sstream>

#include "common/text.hpp"
#include "site/key_reader.hpp"
#include "site/parse_cloud.hpp"
#include "site/parse_hardware.hpp"
#include "site/syntax.hpp"
#include "site/yaml_reader.hpp"

namespace airstrap::site {

namespace {

class SiteParser {
  public:
    SiteParser(YamlReader& r, const std::filesystem::path& dir) : r_(r), k_(r, dir), dir_(dir) {}

    void parse(const YAML::Node& root, Site& site) {
        YamlMap top(r_, root, "",
                    {"site", "networks", "disk_layouts", "nodes", "media", "packages", "security",
                     "time", "firstboot", "qcow2", "openstack", "cloud", "ssh", "secrets"});
        if (!top.valid()) return;
        parse_site_section(top.require("site"), site);
        parse_networks(top.require("networks"), site);
        if (auto n = top.get("disk_layouts"); n.IsDefined() && !n.IsNull())
            parse_disk_layouts(n, site);
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
            parse_cloud(k_, n, site.openstack.release, site.cloud);
        if (auto n = top.get("ssh"); n.IsDefined()) parse_ssh(n, site.ssh);
        site.secrets_path = dir_ / "secrets.yaml";
        if (auto s = k_.read(top, {"secrets"}, k_.text())) site.secrets_path = dir_ / *s;
        site.secrets_path = site.secrets_path.lexically_normal();
    }

  private:
    void parse_site_section(const YAML::Node& node, Site& site) {
        YamlMap m(r_, node, "site",
                  {"name", "domain", "distro", "timezone", "rtc", "language", "keyboard"});
        if (!m.valid()) return;
        k_.set(m, {"name", Need::required}, site.name, k_.text(),
               must(is_valid_hostname, [](const std::string& s) {
                   return "site name '" + s +
                          "' must be letters, digits and hyphens (it names files and labels)";
               }));
        k_.set(m, {"domain", Need::required}, site.domain, k_.text(),
               must(is_valid_domain, [](const std::string& s) {
                   return "'" + s +
                          "' is not a valid DNS domain (RFC 1123 labels separated by dots)";
               }));
        k_.set(
            m, {"distro", Need::required, &site.distro_at}, site.distro,
            k_.one_of<Distro>({{"el7", Distro::el7}, {"el8", Distro::el8}, {"el9", Distro::el9}}));
        k_.set(m, {"timezone", Need::optional, &site.timezone_at}, site.timezone, k_.text());
        k_.set(m, {"rtc"}, site.rtc, k_.one_of<Rtc>({{"utc", Rtc::utc}, {"local", Rtc::local}}));
        k_.set(m, {"language"}, site.language, k_.text(),
               must(is_locale_name, [](const std::string& s) {
                   return "'" + s + "' is not a locale such as en_US.UTF-8 or zh_CN.UTF-8";
               }));
        k_.set(m, {"keyboard"}, site.keyboard, k_.text(),
               must(is_keyboard_layout, [](const std::string& s) {
                   return "'" + s + "' is not a keyboard layout such as us or de-nodeadkeys";
               }));
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
        YamlMap m(r_, node, "networks." + net.name,
                  {"purpose", "cidr", "gateway", "dns", "cidr6", "gateway6", "vlan", "mtu"});
        if (!m.valid()) return;
        k_.set(m, {"purpose", Need::required}, net.purpose,
               k_.one_of<NetworkPurpose>({{"management", NetworkPurpose::management},
                                          {"external", NetworkPurpose::external},
                                          {"tenant", NetworkPurpose::tenant},
                                          {"storage", NetworkPurpose::storage}}));
        k_.set(m, {"cidr", Need::required, &net.cidr_at}, net.cidr, k_.cidr());
        k_.set(m, {"gateway", Need::nullable, &net.gateway_at}, net.gateway, k_.ipv4());
        for (auto& [ip, item] : k_.list(m, "dns", k_.ipv4())) net.dns.push_back(ip);
        k_.set(m, {"cidr6", Need::nullable, &net.cidr6_at}, net.cidr6, k_.cidr6());
        k_.set(m, {"gateway6", Need::nullable, &net.gateway6_at}, net.gateway6, k_.ipv6());
        k_.set(m, {"vlan", Need::nullable, &net.vlan_at}, net.vlan,
               k_.number(1, 4094, " (an 802.1Q VLAN id)"));
        k_.set(m, {"mtu", Need::optional, &net.mtu_at}, net.mtu, k_.number(1280, 9216));
    }

    void parse_disk_layouts(const YAML::Node& node, Site& site) {
        YamlMap m(r_, node, "disk_layouts", {"controller", "network", "compute"});
        if (!m.valid()) return;
        for (Role role : all_roles) {
            if (auto n = m.get(to_string(role)); n.IsDefined())
                parse_disks(k_, n, m.path(to_string(role)), site.disk_layouts[role]);
        }
    }

    void parse_nodes(const YAML::Node& node, Site& site) {
        if (!node.IsDefined()) return;
        site.nodes_at = location_of(node);
        if (!r_.is_sequence(node, "'nodes'")) return;
        std::size_t index = 0;
        for (const auto& item : node) {
            Node n;
            n.where = location_of(item);
            parse_node(item, index++, site, n);
            site.nodes.push_back(std::move(n));
        }
    }

    void parse_node(const YAML::Node& node, std::size_t index, const Site& site, Node& out) {
        std::string what = "nodes[" + std::to_string(index) + "]";
        YamlMap m(
            r_, node, what,
            {"name", "role", "bonds", "interfaces", "disk", "disks", "nested_virtualization"});
        if (!m.valid()) return;
        k_.set(m, {"name", Need::required, &out.name_at}, out.name, k_.text(),
               must(is_valid_hostname, [](const std::string& s) {
                   return "node name '" + s +
                          "' is not a valid host name (RFC 1123: letters, digits and hyphens, at "
                          "most 63, no leading or trailing hyphen)";
               }));
        bool role = k_.set(m, {"role", Need::required}, out.role,
                           k_.one_of<Role>({{"controller", Role::controller},
                                            {"network", Role::network},
                                            {"compute", Role::compute}}));
        // The disks: 'disk: sdb' (one system disk), 'disks: {…}', or the role's layout.
        if (m.has("disk") && m.has("disks")) {
            r_.diag().error(location_of(m.get("disks")),
                            "'" + what +
                                "' has both disk and disks; keep one (disk: NAME is "
                                "short for disks: {system: NAME})");
        } else if (auto d = m.get("disk"); d.IsDefined()) {
            if (auto sel = parse_disk_selector(k_, d, m.path("disk"))) {
                out.disks.system = {std::move(*sel)};
                out.disks.where = out.disks.system[0].where;
            }
        } else if (auto ds = m.get("disks"); ds.IsDefined()) {
            parse_disks(k_, ds, m.path("disks"), out.disks);
        } else if (role && site.disk_layouts.contains(out.role)) {
            out.disks = site.disk_layouts.at(out.role);
            out.disks.from_role = out.role;
        }
        if (auto b = m.get("bonds"); b.IsDefined()) parse_bonds(k_, b, m.path("bonds"), out.bonds);
        k_.set(m, {"nested_virtualization"}, out.nested_virtualization, k_.flag());
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
        YamlMap m(r_, node, what, {"name", "mac", "network", "address", "address6", "bridge"});
        if (!m.valid()) return;
        k_.set(m, {"name", Need::required, &out.name_at}, out.name, k_.text(),
               must(is_valid_interface_name, [](const std::string& s) {
                   return "'" + s +
                          "' is not a valid interface name (1-15 letters, digits, '.', '-', '_', "
                          "e.g. ens32)";
               }));
        k_.set(m, {"mac", Need::optional, &out.mac_at}, out.mac, k_.mac());
        k_.set(m, {"network", Need::required, &out.network_at}, out.network, k_.text());
        k_.set(m, {"address", Need::nullable, &out.address_at}, out.address, k_.ipv4());
        k_.set(m, {"address6", Need::nullable, &out.address6_at}, out.address6, k_.ipv6());
        k_.set(m, {"bridge", Need::optional, &out.bridge_at}, out.bridge, k_.text(),
               must(is_valid_interface_name,
                    [](const std::string& s) { return "'" + s + "' is not a valid bridge name"; }));
    }

    void parse_media(const YAML::Node& node, Media& media) {
        YamlMap m(r_, node, "media", {"vendor_iso", "repos", "gpg_keys", "require_signatures"});
        if (!m.valid()) return;
        k_.set(m, {"vendor_iso", Need::optional, &media.vendor_iso_at}, media.vendor_iso,
               k_.file());
        for (auto& [key, item] : k_.list(m, "gpg_keys", k_.file())) media.gpg_keys.push_back(key);
        // Naming keys means wanting them enforced, unless the site says otherwise.
        media.require_signatures = !media.gpg_keys.empty();
        k_.set(m, {"require_signatures"}, media.require_signatures, k_.flag(),
               [&](bool required) -> std::optional<std::string> {
                   if (!required || !media.gpg_keys.empty()) return std::nullopt;
                   return "require_signatures needs the keys to check against: list them in "
                          "media.gpg_keys";
               });
        auto repos = m.get("repos");
        if (!repos.IsDefined() || repos.IsNull() || !r_.is_sequence(repos, "'media.repos'")) return;
        std::size_t i = 0;
        for (const auto& item : repos) {
            std::string what = "media.repos[" + std::to_string(i++) + "]";
            YamlMap rm(r_, item, what, {"name", "tarball", "directory", "url"});
            if (!rm.valid()) continue;
            RepoSource repo;
            repo.where = rm.where();
            k_.set(rm, {"name", Need::required}, repo.name, k_.text(),
                   must(is_valid_hostname, [](const std::string& s) {
                       return "repository name '" + s +
                              "' must be letters, digits and hyphens (it becomes a yum repo id)";
                   }));
            auto url = must(
                [](const std::string& s) {
                    return s.starts_with("http://") || s.starts_with("https://") ||
                           s.starts_with("file://");
                },
                [](const std::string& s) {
                    return "repository URL '" + s +
                           "' must start with http://, https:// or file://";
                });
            int kinds = 0;
            for (auto [key, kind] : {std::pair{"tarball", RepoSource::Kind::tarball},
                                     std::pair{"directory", RepoSource::Kind::directory},
                                     std::pair{"url", RepoSource::Kind::url}}) {
                if (!rm.has(key)) continue;
                ++kinds;
                bool is_url = kind == RepoSource::Kind::url;
                if (k_.set(rm, {key}, repo.location, is_url ? k_.text() : k_.file(),
                           is_url ? url : Check<std::string>{}))
                    repo.kind = kind;
            }
            if (kinds != 1) {
                r_.diag().error(repo.where, "'" + what +
                                                "' needs exactly one of tarball, "
                                                "directory or url");
            }
            media.repos.push_back(std::move(repo));
        }
    }

    void parse_package_changes(const YAML::Node& node, const std::string& what,
                               PackageChanges& out) {
        YamlMap m(r_, node, what, {"add", "remove"});
        if (!m.valid()) return;
        out.where = m.where();
        auto package_name = k_.rejecting(
            k_.text(),
            must(
                [](const std::string& name) {
                    return !name.empty() && name.find_first_of(" \t'\"\\;$`") == std::string::npos;
                },
                [](const std::string& name) { return "'" + name + "' is not a package name"; }));
        for (auto [key, list] : {std::pair{"add", &out.add}, std::pair{"remove", &out.remove}}) {
            for (auto& [name, item] : k_.list(m, key, package_name)) list->push_back(name);
        }
    }

    void parse_packages(const YAML::Node& node, Packages& packages) {
        YamlMap m(r_, node, "packages",
                  {"common", "controller", "network", "compute", "weak_deps"});
        if (!m.valid()) return;
        k_.set(m, {"weak_deps"}, packages.weak_deps, k_.flag());
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
        k_.set(m, {"selinux"}, sec.selinux,
               k_.one_of<Selinux>({{"disabled", Selinux::disabled},
                                   {"permissive", Selinux::permissive},
                                   {"enforcing", Selinux::enforcing}}));
        k_.set(m, {"firewalld"}, sec.firewalld, k_.flag());
        k_.set(m, {"network_manager", Need::optional, &sec.network_manager_at}, sec.network_manager,
               k_.flag());
    }

    void parse_time(const YAML::Node& node, TimeSync& time) {
        YamlMap m(r_, node, "time", {"upstream", "stratum"});
        if (!m.valid()) return;
        auto server_name = k_.rejecting(
            k_.text(), must(
                           [](const std::string& server) {
                               return Ipv4::parse(server) || is_valid_domain(server);
                           },
                           [](const std::string& server) {
                               return "'" + server + "' is neither an IPv4 address nor a host name";
                           }));
        for (auto& [server, item] : k_.list(m, "upstream", server_name))
            time.upstream.push_back(server);
        k_.set(m, {"stratum"}, time.stratum, k_.number(1, 15));
    }

    void parse_firstboot(const YAML::Node& node, Firstboot& fb) {
        YamlMap m(r_, node, "firstboot",
                  {"port", "barrier_timeout", "sync_timeout", "rejoin_window"});
        if (!m.valid()) return;
        k_.set(m, {"port"}, fb.port, k_.number(1, 65535));
        k_.set(m, {"barrier_timeout"}, fb.barrier_timeout, k_.number(10, 7 * 86400, " (seconds)"));
        k_.set(m, {"sync_timeout"}, fb.sync_timeout, k_.number(5, 86400, " (seconds)"));
        k_.set(m, {"rejoin_window"}, fb.rejoin_window, k_.number(60, 7 * 86400, " (seconds)"));
    }

    void parse_qcow2(const YAML::Node& node, Qcow2& q) {
        YamlMap m(r_, node, "qcow2", {"size", "profile", "compress"});
        if (!m.valid()) return;
        As<int> gigabytes = [this](const YAML::Node& n,
                                   const std::string& path) -> std::optional<int> {
            auto s = k_.text()(n, path);
            if (!s) return std::nullopt;
            std::string digits = *s;
            if (!digits.empty() && digits.back() == 'G') digits.pop_back();
            auto v = text::parse_int(digits);
            if (!v || *v < 4 || *v > 65536) {
                r_.diag().error(location_of(n), "qcow2 size '" + *s +
                                                    "' must be whole gigabytes from 4G to "
                                                    "65536G, such as 20G");
                return std::nullopt;
            }
            return static_cast<int>(*v);
        };
        k_.set(m, {"size"}, q.size_gib, gigabytes);
        k_.set(m, {"profile"}, q.profile, k_.text());
        k_.set(m, {"compress"}, q.compress, k_.flag());
    }

    void parse_openstack(const YAML::Node& node, OpenStack& os) {
        if (!node.IsDefined()) return;
        YamlMap m(
            r_, node, "openstack",
            {"deployer", "release", "l2_agent", "services", "cinder_volumes_size", "answers"});
        if (!m.valid()) return;
        os.where = m.where();
        k_.set(m, {"deployer"}, os.deployer, k_.one_of<const char*>({{"packstack", "packstack"}}));
        k_.set(m, {"release", Need::required, &os.release_at}, os.release, k_.text());
        k_.set(m, {"l2_agent", Need::optional, &os.l2_agent_at}, os.l2_agent,
               k_.one_of<L2Agent>({{"openvswitch", L2Agent::openvswitch}, {"ovn", L2Agent::ovn}}));
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
                    if (auto b = k_.flag()(it->second, "openstack.services." + name)) {
                        os.services[name] = *b;
                        os.service_at[name] = location_of(it->first);
                    }
                }
            }
        }
        k_.set(m, {"cinder_volumes_size"}, os.cinder_volumes_size, k_.text(),
               must(
                   [](const std::string& s) {
                       bool ok = s.size() >= 2 && s.back() == 'G' && s[0] != '0';
                       for (std::size_t i = 0; ok && i + 1 < s.size(); ++i)
                           ok = std::isdigit(static_cast<unsigned char>(s[i])) != 0;
                       return ok;
                   },
                   [](const std::string& s) {
                       return "cinder volume size '" + s +
                              "' must be whole gigabytes such as 10G (Packstack accepts only "
                              "that form)";
                   }));
        if (auto n = m.get("answers"); n.IsDefined() && !n.IsNull()) {
            if (!n.IsMap()) {
                r_.diag().error(location_of(n),
                                "expected a mapping of CONFIG_… key to value for "
                                "'openstack.answers'");
                return;
            }
            YamlMap dup_check(r_, n, "openstack.answers", {});
            (void)dup_check;
            auto single_line = k_.rejecting(
                k_.text(),
                must([](const std::string& v) { return v.find('\n') == std::string::npos; },
                     [](const std::string&) {
                         return std::string("answer-file values are single lines");
                     }));
            for (auto it = n.begin(); it != n.end(); ++it) {
                if (!it->first.IsScalar()) continue;
                AnswerOverride a;
                a.key = it->first.Scalar();
                a.where = location_of(it->first);
                bool seen = false;
                for (const auto& other : os.answers) seen = seen || other.key == a.key;
                if (seen) continue;
                if (auto v = single_line(it->second, "openstack.answers." + a.key)) {
                    a.value = *v;
                    os.answers.push_back(std::move(a));
                }
            }
        }
    }

    void parse_ssh(const YAML::Node& node, Ssh& ssh) {
        YamlMap m(r_, node, "ssh", {"authorized_keys"});
        if (!m.valid()) return;
        auto public_key = [](const std::string& key) {
            static const char* const types[] = {"ssh-ed25519 ",
                                                "ssh-rsa ",
                                                "ecdsa-sha2-nistp256 ",
                                                "ecdsa-sha2-nistp384 ",
                                                "ecdsa-sha2-nistp521 ",
                                                "sk-ssh-ed25519@openssh.com ",
                                                "sk-ecdsa-sha2-nistp256@openssh.com "};
            bool ok = false;
            for (const char* t : types) ok = ok || key.starts_with(t);
            return ok && key.find('\n') == std::string::npos &&
                   key.find("PRIVATE KEY") == std::string::npos;
        };
        auto key_line = k_.rejecting(k_.text(), must(public_key, [](const std::string&) {
                                         return std::string(
                                             "expected an OpenSSH public key line (ssh-ed25519 "
                                             "AAAA… comment)");
                                     }));
        for (auto& [key, item] : k_.list(m, "authorized_keys", key_line))
            ssh.authorized_keys.push_back(key);
    }

    YamlReader& r_;
    KeyReader k_;
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
