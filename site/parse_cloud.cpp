#include "site/parse_cloud.hpp"

#include <algorithm>
#include <cctype>
#include <tuple>

#include "common/text.hpp"

namespace airstrap::site {

namespace {

class CloudParser {
  public:
    explicit CloudParser(KeyReader& k) : k_(k), r_(k.yaml()) {}

    void parse(const YAML::Node& node, const std::string& release, Cloud& cloud) {
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
            if (parse_network(item, what, net)) cloud.networks.push_back(std::move(net));
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

  private:
    // Names go to the openstack CLI as arguments: plain words, never option-like.
    As<std::string> cloud_name() {
        return [this](const YAML::Node& n, const std::string& path) -> std::optional<std::string> {
            auto s = k_.text()(n, path);
            if (!s) return std::nullopt;
            bool ok = !s->empty() && s->size() <= 64 &&
                      (std::isalnum(static_cast<unsigned char>((*s)[0])) != 0 || (*s)[0] == '_') &&
                      s->find_first_not_of(
                          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                          "0123456789._-@") == std::string::npos;
            if (!ok) {
                r_.diag().error(location_of(n),
                                "'" + *s + "' is not a name airstrap accepts for '" + path +
                                    "' (1-64 letters, digits, '.', '_', '-', '@', "
                                    "starting with a letter, digit or '_')");
                return std::nullopt;
            }
            return s;
        };
    }

    // The name key of a cloud item, required; false when the item cannot be used.
    bool named(const YamlMap& m, std::string& name, SourceLocation& at) {
        return k_.set(m, {"name", Need::required, &at}, name, cloud_name());
    }

    void optional_name(const YamlMap& m, const char* key, std::string& out, SourceLocation& at) {
        k_.set(m, {key, Need::optional, &at}, out, cloud_name());
    }

    void parse_external_network(const YAML::Node& node, CloudExternalNetwork& out) {
        YamlMap m(
            r_, node, "cloud.external_network",
            {"name", "network", "physical_network", "subnet", "allocation_pool", "gateway", "dns"});
        if (!m.valid()) return;
        out.where = m.where();
        if (named(m, out.name, out.name_at)) out.subnet = out.name + "_subnet";
        k_.set(m, {"network", Need::required, &out.network_at}, out.network, k_.text());
        auto plain = must(
            [](const std::string& s) {
                return !s.empty() && s.size() <= 64 &&
                       s.find_first_not_of(
                           "abcdefghijklmnopqrstuvwxyz"
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == std::string::npos;
            },
            [](const std::string& s) {
                return "physical network '" + s +
                       "' must be a plain name such as extnet (letters, digits, '_', '-'): it "
                       "names a bridge mapping";
            });
        k_.set(m, {"physical_network", Need::optional, &out.physical_network_at},
               out.physical_network, k_.rejecting(k_.text(), plain));
        optional_name(m, "subnet", out.subnet, out.subnet_at);
        using Range = std::pair<Ipv4, Ipv4>;
        As<Range> range = [this](const YAML::Node& n,
                                 const std::string& path) -> std::optional<Range> {
            auto s = k_.text()(n, path);
            if (!s) return std::nullopt;
            auto dash = s->find('-');
            std::optional<Ipv4> start, end;
            if (dash != std::string::npos) {
                start = Ipv4::parse(text::trim(s->substr(0, dash)));
                end = Ipv4::parse(text::trim(s->substr(dash + 1)));
            }
            if (!start || !end) {
                r_.diag().error(location_of(n), "'" + *s +
                                                    "' is not an address range such as "
                                                    "192.168.222.100-192.168.222.200");
                return std::nullopt;
            }
            return Range{*start, *end};
        };
        k_.set(m, {"allocation_pool", Need::nullable, &out.allocation_pool_at}, out.allocation_pool,
               range);
        k_.set(m, {"gateway", Need::nullable, &out.gateway_at}, out.gateway, k_.ipv4());
        for (auto& [ip, item] : k_.list(m, "dns", k_.ipv4())) out.dns.push_back(ip);
    }

    bool parse_network(const YAML::Node& node, const std::string& what, CloudNetwork& out) {
        YamlMap m(r_, node, what, {"name", "cidr", "subnet", "gateway", "dns", "project"});
        if (!m.valid()) return false;
        bool ok = named(m, out.name, out.name_at);
        if (ok) out.subnet = out.name + "_subnet";
        optional_name(m, "subnet", out.subnet, out.subnet_at);
        ok = k_.set(m, {"cidr", Need::required, &out.cidr_at}, out.cidr, k_.cidr()) && ok;
        k_.set(m, {"gateway", Need::nullable, &out.gateway_at}, out.gateway, k_.ipv4());
        for (auto& [ip, item] : k_.list(m, "dns", k_.ipv4())) out.dns.push_back(ip);
        optional_name(m, "project", out.project, out.project_at);
        return ok;
    }

    bool parse_router(const YAML::Node& node, const std::string& what, CloudRouter& out) {
        YamlMap m(r_, node, what, {"name", "external_gateway", "subnets", "project"});
        if (!m.valid()) return false;
        bool ok = named(m, out.name, out.name_at);
        k_.set(m, {"external_gateway", Need::optional, &out.external_gateway_at},
               out.external_gateway, k_.flag());
        for (auto& [s, item] : k_.list(m, "subnets", k_.text())) {
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
            k_.set(m, {key}, *field, k_.number(1, max, unit));
        }
        k_.set(m, {"public"}, out.is_public, k_.flag());
        return ok;
    }

    bool parse_image(const YAML::Node& node, const std::string& what, CloudImage& out) {
        YamlMap m(r_, node, what, {"name", "source", "disk_format", "public"});
        if (!m.valid()) return false;
        bool ok = named(m, out.name, out.name_at);
        auto plain_file_name = must(
            [](const std::string& s) {
                std::string base = std::filesystem::path(s).filename().string();
                return !base.empty() && base[0] != '.' && base[0] != '-' &&
                       base.find_first_not_of(
                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                           "0123456789._+-") == std::string::npos;
            },
            [](const std::string& s) {
                return "image file name '" + std::filesystem::path(s).filename().string() +
                       "' must be letters, digits, '.', '_', '+', '-' (it names the copy in the "
                       "site repository)";
            });
        if (auto s = k_.read(m, {"source", Need::required, &out.source_at},
                             k_.rejecting(k_.text(), plain_file_name))) {
            out.source = k_.resolve(*s);
        } else {
            ok = false;
        }
        k_.set(m, {"disk_format"}, out.disk_format,
               k_.one_of<const char*>({{"qcow2", "qcow2"},
                                       {"raw", "raw"},
                                       {"vmdk", "vmdk"},
                                       {"vdi", "vdi"},
                                       {"iso", "iso"},
                                       {"ami", "ami"}}));
        k_.set(m, {"public"}, out.is_public, k_.flag());
        return ok;
    }

    bool parse_project(const YAML::Node& node, const std::string& what, CloudProject& out) {
        YamlMap m(r_, node, what, {"name", "description"});
        if (!m.valid()) return false;
        bool ok = named(m, out.name, out.name_at);
        auto one_line = must(
            [](const std::string& s) {
                return s.size() <= 255 && std::none_of(s.begin(), s.end(), [](char c) {
                           return static_cast<unsigned char>(c) < 0x20;
                       });
            },
            [](const std::string&) {
                return std::string("a project description is one line of at most 255 characters");
            });
        k_.set(m, {"description"}, out.description, k_.rejecting(k_.text(), one_line));
        return ok;
    }

    bool parse_user(const YAML::Node& node, const std::string& what, CloudUser& out) {
        YamlMap m(r_, node, what, {"name", "project", "role"});
        if (!m.valid()) return false;
        bool ok = named(m, out.name, out.name_at);
        // A user whose project is misspelt still counts (airstrap init gives it a password).
        if (!m.has("project")) ok = false;
        k_.set(m, {"project", Need::required, &out.project_at}, out.project, cloud_name());
        k_.set(m, {"role"}, out.role, cloud_name());
        return ok;
    }

    KeyReader& k_;
    YamlReader& r_;
};

}  // namespace

void parse_cloud(KeyReader& k, const YAML::Node& node, const std::string& release, Cloud& cloud) {
    CloudParser(k).parse(node, release, cloud);
}

}  // namespace airstrap::site
