#include "provision/tree.hpp"

#include <sys/stat.h>

#include <ctime>

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/text.hpp"
#include "provision/json_util.hpp"
#include "provision/state.hpp"

namespace airstrap::provision {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int service_format = 1;

// A tree-relative path that stays inside the tree: no "..", not absolute, not empty.
bool inside(const std::string& path) {
    if (path.empty() || path.front() == '/') return false;
    for (const auto& part : text::split(path, '/')) {
        if (part.empty() || part == "." || part == "..") return false;
    }
    return true;
}

void make_private_dir(const fs::path& dir) {
    fs::create_directories(dir);
    if (::chmod(dir.c_str(), 0700) != 0) throw SystemError("cannot chmod " + dir.string(), errno);
}

}  // namespace

const NodeEntry* ServiceConfig::find(std::string_view name) const {
    for (const auto& n : nodes) {
        if (n.name == name) return &n;
    }
    return nullptr;
}

const NodeEntry* ServiceConfig::find_by_address(std::string_view address) const {
    for (const auto& n : nodes) {
        if (!n.address.empty() && n.address == address) return &n;
    }
    return nullptr;
}

const NodeEntry* ServiceConfig::find_by_mac(std::string_view mac) const {
    std::string lower = text::to_lower(mac);
    for (const auto& n : nodes) {
        for (const auto& m : n.macs) {
            if (m == lower) return &n;
        }
    }
    return nullptr;
}

std::string service_json_text(const ServiceConfig& c) {
    json nodes = json::array();
    for (const auto& n : c.nodes) {
        json files = json::array();
        for (const auto& f : n.boot_files) {
            files.push_back({{"path", f.path}, {"build", f.build_text}, {"local", f.local_text}});
        }
        nodes.push_back({{"name", n.name},
                         {"role", n.role},
                         {"address", n.address},
                         {"macs", n.macs},
                         {"kickstart", n.kickstart},
                         {"report_key", crypto::to_hex(n.report_key)},
                         {"boot_files", files}});
    }
    return json{{"format", service_format},
                {"site", c.site},
                {"server_ip", c.server_ip},
                {"http_port", c.http_port},
                {"nodes", nodes}}
               .dump(1) +
           "\n";
}

ServiceConfig parse_service_json(std::string_view text, const std::string& where) {
    using detail::bad;
    json doc = detail::parse_json(text, where);
    if (!doc.is_object()) bad(where, "", "expected an object");
    if (detail::get_int(doc, "format", where) != service_format) {
        bad(where, "format", "expected " + std::to_string(service_format));
    }
    ServiceConfig c;
    c.site = detail::get_string(doc, "site", where);
    c.server_ip = detail::get_string(doc, "server_ip", where);
    std::int64_t port = detail::get_int(doc, "http_port", where);
    if (port < 1 || port > 65535) bad(where, "http_port", "not a TCP port");
    c.http_port = static_cast<int>(port);
    const json& nodes = detail::get(doc, "nodes", json::value_t::array, where);
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        const json& j = nodes[i];
        std::string at = where + ": nodes[" + std::to_string(i) + "]";
        if (!j.is_object()) bad(at, "", "expected an object");
        NodeEntry n;
        n.name = detail::get_string(j, "name", at);
        if (n.name.empty() || c.find(n.name)) bad(at, "name", "empty or repeated");
        at = where + ": node " + n.name;
        n.role = detail::get_string(j, "role", at);
        n.address = detail::get_string(j, "address", at);
        for (const auto& m : detail::get(j, "macs", json::value_t::array, at)) {
            if (!m.is_string()) bad(at, "macs", "expected strings");
            n.macs.push_back(text::to_lower(m.get<std::string>()));
        }
        n.kickstart = detail::get_string(j, "kickstart", at);
        if (!inside(n.kickstart)) bad(at, "kickstart", "not a path inside the tree");
        if (!crypto::from_hex(detail::get_string(j, "report_key", at), n.report_key) ||
            n.report_key.size() != 32) {
            bad(at, "report_key", "expected 64 hex digits");
        }
        for (const auto& f : detail::get(j, "boot_files", json::value_t::array, at)) {
            if (!f.is_object()) bad(at, "boot_files", "expected objects");
            BootFile b;
            b.path = detail::get_string(f, "path", at);
            if (!inside(b.path)) bad(at, "boot_files", "'" + b.path + "' is not inside the tree");
            b.build_text = detail::get_string(f, "build", at);
            b.local_text = detail::get_string(f, "local", at);
            n.boot_files.push_back(std::move(b));
        }
        c.nodes.push_back(std::move(n));
    }
    return c;
}

ServiceConfig read_service_config(const fs::path& dir) {
    fs::path path = dir / service_file;
    if (!fs::exists(path)) {
        throw InputError(dir.string() + " has no " + service_file +
                         ": it is not a PXE tree of this airstrap version; rebuild it with "
                         "'airstrap build pxe SITE -o " +
                         dir.string() + "'");
    }
    return parse_service_json(read_file(path, 16 << 20), path.string());
}

std::vector<PreparedNode> prepare_tree(const fs::path& root, const fs::path& previous,
                                       const ServiceConfig& config) {
    StateFile old;
    if (!previous.empty() && fs::exists(previous / state_file)) {
        fs::path p = previous / state_file;
        try {
            old = parse_state_json(read_file(p, 16 << 20), p.string());
        } catch (const InputError& e) {
            throw InputError(std::string(e.what()) +
                             ": the tree being replaced has a state file that cannot be read, "
                             "so which nodes are installed is unknown; fix it, or remove it "
                             "(every node then installs again on its next network boot)");
        }
    }
    make_private_dir(root / private_dir);
    make_private_dir(root / state_dir);
    write_file_atomic(root / service_file, service_json_text(config), 0600);

    StateFile now;
    std::vector<PreparedNode> out;
    auto stamp = static_cast<std::int64_t>(std::time(nullptr));
    for (const auto& n : config.nodes) {
        auto it = old.nodes.find(n.name);
        NodeState s;
        if (it != old.nodes.end()) {
            s = it->second;
        } else {
            s.phase_since = stamp;
        }
        bool local = s.state == BuildState::local;
        for (const auto& f : n.boot_files) {
            fs::path p = root / f.path;
            fs::create_directories(p.parent_path());
            write_file_atomic(p, local ? f.local_text : f.build_text, 0644);
        }
        now.nodes.emplace(n.name, s);
        out.push_back({n.name, local});
    }
    write_file_atomic(root / state_file, state_json_text(now), 0600);
    write_file_atomic(root / lock_file, "", 0644);
    return out;
}

}  // namespace airstrap::provision
