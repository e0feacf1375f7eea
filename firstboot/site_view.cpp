#include "firstboot/site_view.hpp"

#include <arpa/inet.h>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/text.hpp"

namespace airstrap::firstboot {

const char* to_string(Role r) {
    switch (r) {
        case Role::controller:
            return "controller";
        case Role::network:
            return "network";
        case Role::compute:
            return "compute";
    }
    return "?";
}

const NodeView* SiteView::node(const std::string& n) const {
    for (const auto& x : nodes) {
        if (x.name == n) return &x;
    }
    return nullptr;
}

const NodeView& SiteView::controller() const {
    for (const auto& x : nodes) {
        if (x.role == Role::controller) return x;
    }
    throw Error("site.json names no controller");
}

bool CloudView::empty() const {
    return !external_network && networks.empty() && routers.empty() && flavors.empty() &&
           images.empty() && projects.empty() && users.empty();
}

std::string SiteView::fqdn(const NodeView& n) const {
    return domain.empty() ? n.name : n.name + "." + domain;
}

namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& where, const std::string& what) {
    throw InputError("site.json: " + where + ": " + what +
                     " (the file is written by the kickstart from site.yaml; rebuild the "
                     "node's media with this version of airstrap)");
}

const json& field(const json& obj, const std::string& where, const char* key) {
    if (!obj.is_object()) bad(where, "expected an object");
    auto it = obj.find(key);
    if (it == obj.end()) bad(where, std::string("missing key '") + key + "'");
    return *it;
}

std::string str(const json& obj, const std::string& where, const char* key) {
    const json& v = field(obj, where, key);
    if (!v.is_string()) bad(where + "." + key, "expected a string");
    return v.get<std::string>();
}

bool boolean(const json& obj, const std::string& where, const char* key) {
    const json& v = field(obj, where, key);
    if (!v.is_boolean()) bad(where + "." + key, "expected true or false");
    return v.get<bool>();
}

long long integer(const json& obj, const std::string& where, const char* key, long long lo,
                  long long hi) {
    const json& v = field(obj, where, key);
    if (!v.is_number_integer() || v.get<long long>() < lo || v.get<long long>() > hi) {
        bad(where + "." + key,
            "expected a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
    }
    return v.get<long long>();
}

std::vector<std::string> strings(const json& obj, const std::string& where, const char* key) {
    const json& v = field(obj, where, key);
    if (!v.is_array()) bad(where + "." + key, "expected a list");
    std::vector<std::string> out;
    for (const auto& s : v) {
        if (!s.is_string()) bad(where + "." + key, "expected a list of strings");
        out.push_back(s.get<std::string>());
    }
    return out;
}

bool ipv4(const std::string& s, std::uint32_t& out) {
    in_addr a{};
    if (inet_pton(AF_INET, s.c_str(), &a) != 1) return false;
    out = ntohl(a.s_addr);
    return true;
}

std::string ipv4_str(std::uint32_t v) {
    in_addr a{};
    a.s_addr = htonl(v);
    char buf[INET_ADDRSTRLEN];
    return inet_ntop(AF_INET, &a, buf, sizeof buf);
}

// A name the day-1 step passes to the openstack CLI: non-empty, never option-like.
std::string name(const json& obj, const std::string& where, const char* key) {
    std::string s = str(obj, where, key);
    if (s.empty() || s[0] == '-') bad(where + "." + key, "expected a name");
    return s;
}

std::string address_or_empty(const json& obj, const std::string& where, const char* key) {
    std::string s = str(obj, where, key);
    std::uint32_t ignored = 0;
    if (!s.empty() && !ipv4(s, ignored)) bad(where + "." + key, "expected an IPv4 address or \"\"");
    return s;
}

std::vector<std::string> addresses(const json& obj, const std::string& where, const char* key) {
    auto list = strings(obj, where, key);
    for (const auto& s : list) {
        std::uint32_t ignored = 0;
        if (!ipv4(s, ignored)) bad(where + "." + key, "expected a list of IPv4 addresses");
    }
    return list;
}

std::string cidr(const json& obj, const std::string& where, const char* key) {
    std::string s = str(obj, where, key);
    auto slash = s.find('/');
    std::uint32_t ignored = 0;
    auto prefix = slash == std::string::npos ? std::nullopt : text::parse_int(s.substr(slash + 1));
    if (!prefix || *prefix < 0 || *prefix > 32 || !ipv4(s.substr(0, slash), ignored))
        bad(where + "." + key, "expected a.b.c.d/n");
    return s;
}

const json& list(const json& obj, const std::string& where, const char* key) {
    const json& v = field(obj, where, key);
    if (!v.is_array()) bad(where + "." + key, "expected a list");
    return v;
}

CloudNetworkView cloud_network(const json& n, const std::string& where, bool external) {
    CloudNetworkView v;
    v.external = external;
    v.name = name(n, where, "name");
    v.subnet = name(n, where, "subnet");
    v.cidr = cidr(n, where, "cidr");
    v.gateway = address_or_empty(n, where, "gateway");
    v.dns = addresses(n, where, "dns");
    if (external) {
        v.physical_network = name(n, where, "physical_network");
        const json& pools = list(n, where, "allocation_pools");
        for (std::size_t i = 0; i < pools.size(); ++i) {
            std::string pw = where + ".allocation_pools[" + std::to_string(i) + "]";
            std::string start = address_or_empty(pools[i], pw, "start");
            std::string end = address_or_empty(pools[i], pw, "end");
            if (start.empty() || end.empty()) bad(pw, "expected a start and an end address");
            v.allocation_pools.emplace_back(start, end);
        }
    } else {
        v.project = name(n, where, "project");
    }
    return v;
}

// The image's path inside the node's repository folder: relative, no '..', no empty parts.
std::string image_file(const json& obj, const std::string& where) {
    std::string s = str(obj, where, "file");
    bool ok = !s.empty() && s[0] != '/' && s.find('\0') == std::string::npos;
    for (const auto& part : text::split(s, '/'))
        ok = ok && !part.empty() && part != ".." && part != ".";
    if (!ok) bad(where + ".file", "expected a relative path inside the repository, without '..'");
    return s;
}

CloudView parse_cloud(const json& c) {
    CloudView v;
    const std::string w = "cloud";
    const json& ext = field(c, w, "external_network");
    if (!ext.is_null()) v.external_network = cloud_network(ext, w + ".external_network", true);
    auto each = [&](const char* key, auto&& parse_one) {
        const json& items = list(c, w, key);
        for (std::size_t i = 0; i < items.size(); ++i)
            parse_one(items[i], w + "." + key + "[" + std::to_string(i) + "]");
    };
    each("networks", [&](const json& n, const std::string& where) {
        v.networks.push_back(cloud_network(n, where, false));
    });
    each("routers", [&](const json& r, const std::string& where) {
        CloudRouterView rv;
        rv.name = name(r, where, "name");
        rv.project = name(r, where, "project");
        rv.external_gateway = boolean(r, where, "external_gateway");
        rv.subnets = strings(r, where, "subnets");
        v.routers.push_back(std::move(rv));
    });
    each("flavors", [&](const json& f, const std::string& where) {
        CloudFlavorView fv;
        fv.name = name(f, where, "name");
        fv.vcpus = static_cast<int>(integer(f, where, "vcpus", 1, 1024));
        fv.ram = static_cast<int>(integer(f, where, "ram", 1, 16LL * 1024 * 1024));
        fv.disk = static_cast<int>(integer(f, where, "disk", 1, 1024LL * 1024));
        fv.is_public = boolean(f, where, "public");
        v.flavors.push_back(std::move(fv));
    });
    each("images", [&](const json& i, const std::string& where) {
        CloudImageView iv;
        iv.name = name(i, where, "name");
        iv.file = image_file(i, where);
        iv.disk_format = str(i, where, "disk_format");
        static const char* const formats[] = {"qcow2", "raw", "vmdk", "vdi", "iso", "ami"};
        bool known = false;
        for (const char* f : formats) known = known || iv.disk_format == f;
        if (!known) bad(where + ".disk_format", "expected qcow2, raw, vmdk, vdi, iso or ami");
        iv.container_format = str(i, where, "container_format");
        if (iv.container_format != "bare") bad(where + ".container_format", "expected bare");
        iv.is_public = boolean(i, where, "public");
        v.images.push_back(std::move(iv));
    });
    each("projects", [&](const json& p, const std::string& where) {
        v.projects.push_back({name(p, where, "name"), str(p, where, "description")});
    });
    each("users", [&](const json& u, const std::string& where) {
        v.users.push_back(
            {name(u, where, "name"), name(u, where, "project"), name(u, where, "role")});
    });
    return v;
}

}  // namespace

SiteView parse_site_json(const std::string& text) {
    json doc = json::parse(text, nullptr, false);
    if (doc.is_discarded()) bad("(document)", "not valid JSON");
    SiteView v;
    if (integer(doc, "(document)", "format", 1, 1) != 1) bad("format", "expected 1");
    const json& s = field(doc, "(document)", "site");
    v.name = str(s, "site", "name");
    v.domain = str(s, "site", "domain");
    v.distro = str(s, "site", "distro");
    if (v.distro != "el7" && v.distro != "el8" && v.distro != "el9")
        bad("site.distro", "expected el7, el8 or el9");

    const json& sec = field(doc, "(document)", "security");
    v.selinux = str(sec, "security", "selinux");
    v.firewalld = boolean(sec, "security", "firewalld");
    v.network_manager = boolean(sec, "security", "network_manager");
    const json& t = field(doc, "(document)", "time");
    v.time_upstream = strings(t, "time", "upstream");
    v.stratum = static_cast<int>(integer(t, "time", "stratum", 1, 15));
    const json& fb = field(doc, "(document)", "firstboot");
    v.port = static_cast<std::uint16_t>(integer(fb, "firstboot", "port", 1, 65535));
    v.barrier_timeout = static_cast<int>(integer(fb, "firstboot", "barrier_timeout", 1, 7 * 86400));
    v.sync_timeout = static_cast<int>(integer(fb, "firstboot", "sync_timeout", 1, 86400));
    v.operator_keys = strings(field(doc, "(document)", "ssh"), "ssh", "authorized_keys");
    const json& os = field(doc, "(document)", "openstack");
    v.openstack_release = str(os, "openstack", "release");
    if (v.openstack_release.empty()) bad("openstack.release", "expected a release name");
    v.l2_agent = str(os, "openstack", "l2_agent");
    if (v.l2_agent != "openvswitch" && v.l2_agent != "ovn")
        bad("openstack.l2_agent", "expected openvswitch or ovn");
    v.cloud = parse_cloud(field(doc, "(document)", "cloud"));

    const json& networks = field(doc, "(document)", "networks");
    if (!networks.is_object()) bad("networks", "expected an object");
    std::string management;
    for (const auto& [name, n] : networks.items()) {
        if (str(n, "networks." + name, "purpose") != "management") continue;
        management = name;
        v.management_cidr = str(n, "networks." + name, "cidr");
    }
    if (management.empty()) bad("networks", "no network has purpose 'management'");
    {
        auto slash = v.management_cidr.find('/');
        std::uint32_t base = 0;
        int prefix = -1;
        if (slash != std::string::npos && ipv4(v.management_cidr.substr(0, slash), base)) {
            auto p = text::parse_int(v.management_cidr.substr(slash + 1));
            if (p && *p >= 8 && *p <= 30) prefix = static_cast<int>(*p);
        }
        if (prefix < 0) bad("networks." + management + ".cidr", "expected a.b.c.d/8…30");
        std::uint32_t host_mask = (prefix == 32) ? 0 : (0xffffffffu >> prefix);
        v.management_broadcast = ipv4_str(base | host_mask);
    }

    const json& nodes = field(doc, "(document)", "nodes");
    if (!nodes.is_array() || nodes.empty()) bad("nodes", "expected a non-empty list");
    int controllers = 0;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        std::string where = "nodes[" + std::to_string(i) + "]";
        const json& n = nodes[i];
        NodeView nv;
        nv.name = str(n, where, "name");
        std::string role = str(n, where, "role");
        if (role == "controller") {
            nv.role = Role::controller;
            ++controllers;
        } else if (role == "network") {
            nv.role = Role::network;
        } else if (role == "compute") {
            nv.role = Role::compute;
        } else {
            bad(where + ".role", "expected controller, network or compute");
        }
        nv.nested_virtualization = boolean(n, where, "nested_virtualization");
        const json& ifaces = field(n, where, "interfaces");
        if (!ifaces.is_array()) bad(where + ".interfaces", "expected a list");
        for (std::size_t j = 0; j < ifaces.size(); ++j) {
            std::string iw = where + ".interfaces[" + std::to_string(j) + "]";
            std::string net = str(ifaces[j], iw, "network");
            const json& addr = field(ifaces[j], iw, "address");
            if (net == management) {
                std::uint32_t ignored = 0;
                if (!addr.is_string() || !ipv4(addr.get<std::string>(), ignored))
                    bad(iw + ".address", "expected the node's IPv4 address on " + management);
                nv.address = addr.get<std::string>();
            } else if (networks.contains(net) &&
                       str(networks[net], "networks." + net, "purpose") == "external") {
                nv.external_nic = str(ifaces[j], iw, "name");
                nv.external_bridge = str(ifaces[j], iw, "bridge");
            }
        }
        if (nv.address.empty())
            bad(where, "node '" + nv.name + "' has no address on the management network");
        if (v.node(nv.name)) bad(where + ".name", "'" + nv.name + "' appears twice");
        v.nodes.push_back(std::move(nv));
    }
    if (controllers != 1) bad("nodes", "expected exactly one controller");
    return v;
}

Identity load_identity(const Paths& paths) {
    Identity id;
    id.site = parse_site_json(read_file(paths.site_json(), 16 << 20));
    std::string key = text::trim(read_file(paths.site_key(), 4096));
    if (!crypto::from_hex(key, id.secret) || id.secret.size() != 32) {
        throw InputError(paths.site_key().string() +
                         ": expected the site secret as 64 hex digits (written by the kickstart)");
    }
    id.node = text::trim(read_file(paths.node_file(), 4096));
    if (!id.site.node(id.node)) {
        throw InputError(paths.node_file().string() + ": '" + id.node +
                         "' is not a node of site '" + id.site.name + "' in " +
                         paths.site_json().string());
    }
    return id;
}

}  // namespace airstrap::firstboot
