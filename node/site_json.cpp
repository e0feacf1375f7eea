#include "node/site_json.hpp"

#include <arpa/inet.h>

#include <nlohmann/json.hpp>

#include "common/crypto.hpp"
#include "common/error.hpp"
#include "common/text.hpp"

namespace airstrap::node {

using nlohmann::json;

namespace {

[[noreturn]] void bad(const std::string& where, const std::string& what) {
    throw InputError("site.json: " + (where.empty() ? std::string("(document)") : where) + ": " +
                     what +
                     " (the file is written by the kickstart from site.yaml; rebuild the "
                     "node's media with this version of airstrap)");
}

std::string join(const std::string& where, const std::string& key) {
    return where.empty() ? key : where + "." + key;
}

template <class T>
concept Record = requires(T& t) {
    fields(t, [](const char*, auto&) {});
};

// The writer: every member by its type, records through their fields().
struct Writer {
    static json write(const std::string& s) { return s; }
    static json write(int v) { return v; }
    static json write(bool v) { return v; }
    static json write(Role r) { return to_string(r); }
    template <class T>
    static json write(const std::optional<T>& v) {
        return v ? write(*v) : json();
    }
    template <class T>
    static json write(const std::vector<T>& list) {
        json out = json::array();
        for (const auto& x : list) out.push_back(write(x));
        return out;
    }
    template <class T>
    static json write(const std::map<std::string, T>& map) {
        json out = json::object();
        for (const auto& [k, x] : map) out[k] = write(x);
        return out;
    }
    template <Record T>
    static json write(const T& record) {
        json out = json::object();
        fields(record, [&](const char* key, const auto& member) { out[key] = write(member); });
        return out;
    }
};

// The strict reader: the shape and types, naming the key; values are checked afterwards.
struct Reader {
    static void read(const json& j, const std::string& where, std::string& out) {
        if (!j.is_string()) bad(where, "expected a string");
        out = j.get<std::string>();
    }
    static void read(const json& j, const std::string& where, int& out) {
        if (!j.is_number_integer() || j.get<long long>() < INT32_MIN ||
            j.get<long long>() > INT32_MAX)
            bad(where, "expected a whole number");
        out = static_cast<int>(j.get<long long>());
    }
    static void read(const json& j, const std::string& where, bool& out) {
        if (!j.is_boolean()) bad(where, "expected true or false");
        out = j.get<bool>();
    }
    static void read(const json& j, const std::string& where, Role& out) {
        auto role = j.is_string() ? role_from_string(j.get<std::string>()) : std::nullopt;
        if (!role) bad(where, "expected controller, network or compute");
        out = *role;
    }
    template <class T>
    static void read(const json& j, const std::string& where, std::optional<T>& out) {
        out.reset();
        if (j.is_null()) return;
        read(j, where, out.emplace());
    }
    template <class T>
    static void read(const json& j, const std::string& where, std::vector<T>& out) {
        if (!j.is_array()) bad(where, "expected a list");
        out.clear();
        for (std::size_t i = 0; i < j.size(); ++i)
            read(j[i], where + "[" + std::to_string(i) + "]", out.emplace_back());
    }
    template <class T>
    static void read(const json& j, const std::string& where, std::map<std::string, T>& out) {
        if (!j.is_object()) bad(where, "expected an object");
        out.clear();
        for (const auto& [k, x] : j.items()) read(x, join(where, k), out[k]);
    }
    template <Record T>
    static void read(const json& j, const std::string& where, T& out) {
        if (!j.is_object()) bad(where, "expected an object");
        std::size_t known = 0;
        fields(out, [&](const char* key, auto& member) {
            auto it = j.find(key);
            if (it == j.end()) bad(where, std::string("missing key '") + key + "'");
            read(*it, join(where, key), member);
            ++known;
        });
        if (j.size() == known) return;
        for (auto it = j.begin(); it != j.end(); ++it) {
            const std::string& name = it.key();
            bool listed = false;
            fields(out, [&](const char* key, auto&) { listed = listed || name == key; });
            if (!listed) bad(where, "unknown key '" + name + "'");
        }
    }
};

bool ipv4(const std::string& s, std::uint32_t& out) {
    in_addr a{};
    if (inet_pton(AF_INET, s.c_str(), &a) != 1) return false;
    out = ntohl(a.s_addr);
    return true;
}
bool ipv4(const std::string& s) {
    std::uint32_t ignored = 0;
    return ipv4(s, ignored);
}

std::string ipv4_str(std::uint32_t v) {
    in_addr a{};
    a.s_addr = htonl(v);
    char buf[INET_ADDRSTRLEN];
    return inet_ntop(AF_INET, &a, buf, sizeof buf);
}

// a.b.c.d/n with n in [lo, hi]: the base address and the prefix.
std::optional<std::pair<std::uint32_t, int>> parse_cidr(const std::string& s, int lo, int hi) {
    auto slash = s.find('/');
    if (slash == std::string::npos) return std::nullopt;
    std::uint32_t base = 0;
    auto prefix = text::parse_int(s.substr(slash + 1));
    if (!prefix || *prefix < lo || *prefix > hi || !ipv4(s.substr(0, slash), base))
        return std::nullopt;
    return std::pair{base, static_cast<int>(*prefix)};
}

// The value checks, once the shape is read.
class Checker {
  public:
    void range(const std::string& where, int v, long long lo, long long hi) {
        if (v < lo || v > hi)
            bad(where,
                "expected a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
    }
    // A name the day-1 step passes to the openstack CLI: non-empty, never option-like.
    void name(const std::string& where, const std::string& s) {
        if (s.empty() || s[0] == '-') bad(where, "expected a name");
    }
    void address_or_empty(const std::string& where, const std::string& s) {
        if (!s.empty() && !ipv4(s)) bad(where, "expected an IPv4 address or \"\"");
    }
    void addresses(const std::string& where, const std::vector<std::string>& list) {
        for (const auto& s : list)
            if (!ipv4(s)) bad(where, "expected a list of IPv4 addresses");
    }
    void cidr(const std::string& where, const std::string& s) {
        if (!parse_cidr(s, 0, 32)) bad(where, "expected a.b.c.d/n");
    }

    void site(const Site& s) {
        const std::string& distro = s.site.distro;
        if (distro != "el7" && distro != "el8" && distro != "el9")
            bad("site.distro", "expected el7, el8 or el9");
        range("time.stratum", s.time.stratum, 1, 15);
        range("firstboot.port", s.firstboot.port, 1, 65535);
        range("firstboot.barrier_timeout", s.firstboot.barrier_timeout, 1, 7 * 86400);
        range("firstboot.sync_timeout", s.firstboot.sync_timeout, 1, 86400);
        range("firstboot.rejoin_window", s.firstboot.rejoin_window, 60, 7 * 86400);
        crypto::Bytes controller_key;
        if (!crypto::from_hex(s.firstboot.controller_key, controller_key) ||
            controller_key.size() != 32)
            bad("firstboot.controller_key",
                "expected the controller's Ed25519 public key as 64 hex digits");
        if (s.openstack.release.empty()) bad("openstack.release", "expected a release name");
        if (s.openstack.l2_agent != "openvswitch" && s.openstack.l2_agent != "ovn")
            bad("openstack.l2_agent", "expected openvswitch or ovn");
        cloud(s.cloud);

        std::string management = s.management_network();
        if (management.empty()) bad("networks", "no network has purpose 'management'");
        if (!parse_cidr(s.networks.at(management).cidr, 8, 30))
            bad("networks." + management + ".cidr", "expected a.b.c.d/8…30");

        if (s.nodes.empty()) bad("nodes", "expected a non-empty list");
        int controllers = 0;
        for (std::size_t i = 0; i < s.nodes.size(); ++i) {
            const Node& n = s.nodes[i];
            std::string where = "nodes[" + std::to_string(i) + "]";
            if (n.role == Role::controller) ++controllers;
            bool addressed = false;
            for (std::size_t j = 0; j < n.interfaces.size(); ++j) {
                const Interface& iface = n.interfaces[j];
                if (iface.network != management) continue;
                if (!iface.address || !ipv4(*iface.address))
                    bad(where + ".interfaces[" + std::to_string(j) + "].address",
                        "expected the node's IPv4 address on " + management);
                addressed = true;
            }
            if (!addressed)
                bad(where, "node '" + n.name + "' has no address on the management network");
            for (std::size_t k = 0; k < i; ++k) {
                if (s.nodes[k].name == n.name)
                    bad(where + ".name", "'" + n.name + "' appears twice");
            }
        }
        if (controllers != 1) bad("nodes", "expected exactly one controller");
    }

  private:
    void network(const std::string& where, const std::string& n_name, const std::string& subnet,
                 const std::string& cidr_, const std::string& gateway,
                 const std::vector<std::string>& dns) {
        name(where + ".name", n_name);
        name(where + ".subnet", subnet);
        cidr(where + ".cidr", cidr_);
        address_or_empty(where + ".gateway", gateway);
        addresses(where + ".dns", dns);
    }

    void cloud(const Cloud& c) {
        if (const auto& e = c.external_network) {
            const std::string w = "cloud.external_network";
            network(w, e->name, e->subnet, e->cidr, e->gateway, e->dns);
            name(w + ".physical_network", e->physical_network);
            for (std::size_t i = 0; i < e->allocation_pools.size(); ++i) {
                std::string pw = w + ".allocation_pools[" + std::to_string(i) + "]";
                const AddressRange& pool = e->allocation_pools[i];
                address_or_empty(pw + ".start", pool.start);
                address_or_empty(pw + ".end", pool.end);
                if (pool.start.empty() || pool.end.empty())
                    bad(pw, "expected a start and an end address");
            }
        }
        auto each = [](const char* key, const auto& items, auto&& check) {
            for (std::size_t i = 0; i < items.size(); ++i)
                check(std::string("cloud.") + key + "[" + std::to_string(i) + "]", items[i]);
        };
        each("networks", c.networks, [&](const std::string& w, const CloudNetwork& n) {
            network(w, n.name, n.subnet, n.cidr, n.gateway, n.dns);
            name(w + ".project", n.project);
        });
        each("routers", c.routers, [&](const std::string& w, const CloudRouter& r) {
            name(w + ".name", r.name);
            name(w + ".project", r.project);
        });
        each("flavors", c.flavors, [&](const std::string& w, const CloudFlavor& f) {
            name(w + ".name", f.name);
            range(w + ".vcpus", f.vcpus, 1, 1024);
            range(w + ".ram", f.ram, 1, 16LL * 1024 * 1024);
            range(w + ".disk", f.disk, 1, 1024LL * 1024);
        });
        each("images", c.images, [&](const std::string& w, const CloudImage& i) {
            name(w + ".name", i.name);
            image_file(w + ".file", i.file);
            static const char* const formats[] = {"qcow2", "raw", "vmdk", "vdi", "iso", "ami"};
            bool known = false;
            for (const char* f : formats) known = known || i.disk_format == f;
            if (!known) bad(w + ".disk_format", "expected qcow2, raw, vmdk, vdi, iso or ami");
            if (i.container_format != "bare") bad(w + ".container_format", "expected bare");
        });
        each("projects", c.projects,
             [&](const std::string& w, const CloudProject& p) { name(w + ".name", p.name); });
        each("users", c.users, [&](const std::string& w, const CloudUser& u) {
            name(w + ".name", u.name);
            name(w + ".project", u.project);
            name(w + ".role", u.role);
        });
    }

    // The image's path inside the node's repository folder: relative, no '..', no empty parts.
    void image_file(const std::string& where, const std::string& s) {
        bool ok = !s.empty() && s[0] != '/' && s.find('\0') == std::string::npos;
        for (const auto& part : text::split(s, '/'))
            ok = ok && !part.empty() && part != ".." && part != ".";
        if (!ok) bad(where, "expected a relative path inside the repository, without '..'");
    }
};

}  // namespace

bool Cloud::empty() const {
    return !external_network && networks.empty() && routers.empty() && flavors.empty() &&
           images.empty() && projects.empty() && users.empty();
}

const Node* Site::node(const std::string& name) const {
    for (const auto& n : nodes) {
        if (n.name == name) return &n;
    }
    return nullptr;
}

const Node& Site::controller() const {
    for (const auto& n : nodes) {
        if (n.role == Role::controller) return n;
    }
    throw Error("site.json names no controller");
}

std::string Site::fqdn(const Node& n) const {
    return site.domain.empty() ? n.name : n.name + "." + site.domain;
}

std::string Site::management_network() const {
    for (const auto& [name, n] : networks) {
        if (n.purpose == "management") return name;
    }
    return "";
}

std::string Site::management_cidr() const {
    auto it = networks.find(management_network());
    return it == networks.end() ? "" : it->second.cidr;
}

std::string Site::management_broadcast() const {
    auto parsed = parse_cidr(management_cidr(), 0, 32);
    if (!parsed) return "";
    auto [base, prefix] = *parsed;
    std::uint32_t host_mask = prefix == 0 ? 0xffffffffu : (0xffffffffu >> prefix);
    return ipv4_str(base | host_mask);
}

std::string Site::address(const Node& n) const {
    std::string management = management_network();
    for (const auto& i : n.interfaces) {
        if (i.network == management && i.address) return *i.address;
    }
    return "";
}

const Interface* Site::external_interface(const Node& n) const {
    const Interface* found = nullptr;
    for (const auto& i : n.interfaces) {
        auto net = networks.find(i.network);
        if (net != networks.end() && net->second.purpose == "external") found = &i;
    }
    return found;
}

std::string site_json_text(const Site& site) {
    json doc = Writer::write(site);
    doc["format"] = Site::format;
    return doc.dump(1) + "\n";
}

Site parse_site_json(const std::string& text) {
    json doc = json::parse(text, nullptr, false);
    if (doc.is_discarded()) bad("", "not valid JSON");
    if (!doc.is_object()) bad("", "expected an object");
    auto format = doc.find("format");
    if (format == doc.end()) bad("", "missing key 'format'");
    if (*format != Site::format) bad("format", "expected " + std::to_string(Site::format));
    doc.erase("format");
    Site site;
    Reader::read(doc, "", site);
    Checker().site(site);
    return site;
}

}  // namespace airstrap::node
