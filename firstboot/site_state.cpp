#include "firstboot/site_state.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <functional>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "firstboot/state_file.hpp"

namespace airstrap::firstboot {

using nlohmann::json;

namespace {

constexpr int state_format = 1;
// A few hundred nodes, each with a journal of 1 KiB details: far below this.
constexpr std::size_t max_state_bytes = 64 << 20;

[[noreturn]] void corrupt(const std::filesystem::path& file, const std::string& why) {
    throw InputError(file.string() + ": not a site state this airstrap can read (" + why +
                     "); remove it to start over: every pin is forgotten and each node must "
                     "enrol again (`airstrap-firstboot run --rerun enrol` on it)");
}

// A node name is one path component under rejoin_dir; the protocol and site.json already
// restrict names to [a-z0-9-], this keeps a bad caller from escaping the folder.
bool usable_as_file_name(const std::string& node) {
    return !node.empty() && node.size() <= 255 && node != "." && node != ".." &&
           node.find('/') == std::string::npos && node.find('\0') == std::string::npos;
}

NodeRecord record_from_json(const std::string& name, const json& j) {
    std::string where = "nodes." + name;
    if (name.empty()) throw InputError("nodes: a node without a name");
    if (!j.is_object()) throw InputError(where + ": expected an object");
    auto field = [&](const char* key) -> const json& {
        auto it = j.find(key);
        if (it == j.end()) throw InputError(where + ": missing key '" + key + "'");
        return *it;
    };
    auto string = [&](const char* key) {
        const json& v = field(key);
        if (!v.is_string()) throw InputError(where + "." + key + ": expected a string");
        return v.get<std::string>();
    };
    NodeRecord r;
    r.name = name;
    const json& keys = field("host_keys");
    if (!keys.is_array()) throw InputError(where + ".host_keys: expected a list");
    for (const auto& k : keys) {
        if (!k.is_string()) throw InputError(where + ".host_keys: expected strings");
        r.host_keys.push_back(k.get<std::string>());
    }
    std::sort(r.host_keys.begin(), r.host_keys.end());
    const json& enrolled = field("enrolled");
    if (!enrolled.is_boolean()) throw InputError(where + ".enrolled: expected true or false");
    r.enrolled = enrolled.get<bool>();
    const json& generation = field("generation");
    if (!generation.is_number_integer() || generation.get<long long>() < 0 ||
        generation.get<long long>() > 1'000'000)
        throw InputError(where + ".generation: expected a whole number from 0");
    r.generation = generation.get<int>();
    r.address = string("address");
    r.last_refusal = string("last_refusal");
    const json& seen = field("last_seen");
    if (!seen.is_number() || seen.get<double>() < 0)
        throw InputError(where + ".last_seen: expected unix seconds");
    r.last_seen = seen.get<double>();
    const json& steps = field("steps");
    if (!steps.is_array()) throw InputError(where + ".steps: expected a list");
    for (std::size_t i = 0; i < steps.size(); ++i)
        r.steps.push_back(step_from_json(steps[i], where + ".steps[" + std::to_string(i) + "]"));
    return r;
}

json record_to_json(const NodeRecord& r) {
    json steps = json::array();
    for (const auto& s : r.steps) steps.push_back(step_to_json(s));
    return {{"host_keys", r.host_keys},       {"enrolled", r.enrolled},
            {"generation", r.generation},     {"address", r.address},
            {"last_refusal", r.last_refusal}, {"last_seen", r.last_seen},
            {"steps", std::move(steps)}};
}

std::map<std::string, NodeRecord> load_nodes(const std::filesystem::path& file) {
    auto loaded = load_state_file(file, max_state_bytes, state_format,
                                  [&](const std::string& why) { corrupt(file, why); });
    if (!loaded) return {};
    const json& doc = *loaded;
    auto nodes = doc.find("nodes");
    if (nodes == doc.end() || !nodes->is_object()) corrupt(file, "nodes: expected an object");
    std::map<std::string, NodeRecord> out;
    for (auto it = nodes->begin(); it != nodes->end(); ++it) {
        try {
            out.emplace(it.key(), record_from_json(it.key(), it.value()));
        } catch (const InputError& e) {
            corrupt(file, e.what());
        }
    }
    return out;
}

}  // namespace

SiteState::SiteState(std::filesystem::path file, std::filesystem::path rejoin_dir)
    : file_(std::move(file)), nodes_(load_nodes(file_)), rejoin_dir_(std::move(rejoin_dir)) {}

void SiteState::save_locked() const {
    json nodes = json::object();
    for (const auto& [name, r] : nodes_) nodes[name] = record_to_json(r);
    // Step details and refusals can carry a command's output: invalid UTF-8 is replaced.
    std::string text = json{{"format", state_format}, {"nodes", std::move(nodes)}}.dump(
        2, ' ', false, json::error_handler_t::replace);
    save_state_file(file_, text);
    dirty_ = false;
    last_save_ = std::chrono::steady_clock::now();
}

void SiteState::save_soon_locked() const {
    if (std::chrono::steady_clock::now() - last_save_ >= std::chrono::seconds(1)) {
        save_locked();
    } else {
        dirty_ = true;
    }
}

SiteState::~SiteState() {
    try {
        flush();
    } catch (const std::exception&) {
        // Beacons and reports only: the nodes report again.
    }
}

void SiteState::flush() {
    std::lock_guard lock(mutex_);
    if (dirty_) save_locked();
}

namespace {

// Changes one node's record, saves, and keeps the change only if the save worked: memory
// never runs ahead of the disk.
template <typename Change>
void change_and_save(std::map<std::string, NodeRecord>& nodes, const std::string& node,
                     Change&& change, const std::function<void()>& save) {
    auto it = nodes.find(node);
    bool existed = it != nodes.end();
    std::optional<NodeRecord> before;
    if (existed) {
        before = it->second;
    } else {
        it = nodes.emplace(node, NodeRecord{}).first;
        it->second.name = node;
    }
    change(it->second);
    try {
        save();
    } catch (...) {
        if (existed) {
            it->second = std::move(*before);
        } else {
            nodes.erase(it);
        }
        throw;
    }
}

}  // namespace

SiteState::PinResult SiteState::pin(const std::string& node, std::vector<std::string> host_keys,
                                    const std::string& address) {
    std::sort(host_keys.begin(), host_keys.end());
    std::lock_guard lock(mutex_);
    auto it = nodes_.find(node);
    double now = unix_now();
    std::optional<RejoinWindow> window = rejoin_window(node);
    bool window_open = window && window->open(now);

    PinResult result;
    if (it == nodes_.end() || !it->second.enrolled) {
        result = PinResult::pinned_new;
    } else if (it->second.host_keys == host_keys) {
        result = PinResult::unchanged;
    } else if (window_open) {
        result = PinResult::rejoined;
    } else {
        result = window ? PinResult::refused_window_expired : PinResult::refused_changed_key;
        std::string why = window ? "host key changed and its rejoin window expired at " +
                                       format_utc(window->expires) + "; run `airstrap rejoin " +
                                       node + "` on the controller again"
                                 : "host key changed (reinstalled?); run `airstrap rejoin " + node +
                                       "` on the controller to accept it";
        change_and_save(
            nodes_, node,
            [&](NodeRecord& r) {
                r.address = address;
                r.last_seen = now;
                r.last_refusal = why;
            },
            [this] { save_locked(); });
        return result;
    }

    // The window admits one change of keys: closed before the pin is saved, so that a crash in
    // between leaves it closed (the operator opens it again) rather than open.
    if (result == PinResult::rejoined) {
        std::error_code ec;
        std::filesystem::path file = rejoin_dir_ / node;
        if (!std::filesystem::remove(file, ec) && ec)
            throw SystemError("cannot close the rejoin window " + file.string(), ec.value());
    }
    change_and_save(
        nodes_, node,
        [&](NodeRecord& r) {
            if (result != PinResult::unchanged) {
                r.host_keys = host_keys;
                r.enrolled = true;
                ++r.generation;
                // A reinstalled node starts its plan over: its old report says nothing now.
                if (result == PinResult::rejoined) r.steps.clear();
            }
            r.address = address;
            r.last_seen = now;
            r.last_refusal.clear();
        },
        [this] { save_locked(); });
    return result;
}

double SiteState::open_rejoin(const std::filesystem::path& rejoin_dir, const std::string& node,
                              std::chrono::seconds window) {
    if (!usable_as_file_name(node)) throw InputError("'" + node + "' is not a node name");
    std::error_code ec;
    std::filesystem::create_directories(rejoin_dir, ec);
    if (ec) throw SystemError("cannot create " + rejoin_dir.string(), ec.value());
    std::filesystem::permissions(rejoin_dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
    if (ec) throw SystemError("cannot make " + rejoin_dir.string() + " private", ec.value());
    double now = unix_now();
    double expires = now + static_cast<double>(window.count());
    json file{{"node", node}, {"opened", now}, {"expires", expires}};
    write_file_atomic(rejoin_dir / node, file.dump() + "\n", 0600);
    return expires;
}

std::optional<SiteState::RejoinWindow> SiteState::rejoin_window(const std::string& node) const {
    if (!usable_as_file_name(node)) return std::nullopt;
    std::filesystem::path file = rejoin_dir_ / node;
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) return std::nullopt;
    RejoinWindow w;
    try {
        json j = json::parse(read_file(file, 4096), nullptr, false);
        // An older airstrap's window (no expiry) or a damaged file: closed.
        if (j.is_object() && j.value("opened", json()).is_number() &&
            j.value("expires", json()).is_number()) {
            w.opened = j["opened"].get<double>();
            w.expires = j["expires"].get<double>();
        }
    } catch (const std::exception&) {
        // Unreadable: closed, like an expired one; `airstrap rejoin` writes a new one.
    }
    return w;
}

bool SiteState::rejoin_open(const std::string& node) const {
    auto w = rejoin_window(node);
    return w && w->open(unix_now());
}

void SiteState::refused(const std::string& node, const std::string& address,
                        const std::string& why) {
    std::lock_guard lock(mutex_);
    double now = unix_now();
    change_and_save(
        nodes_, node,
        [&](NodeRecord& r) {
            r.address = address;
            r.last_seen = now;
            r.last_refusal = why;
        },
        [this] { save_locked(); });
}

void SiteState::seen(const std::string& node, const std::string& address) {
    std::lock_guard lock(mutex_);
    double now = unix_now();
    change_and_save(
        nodes_, node,
        [&](NodeRecord& r) {
            r.address = address;
            r.last_seen = now;
        },
        [this] { save_soon_locked(); });
}

void SiteState::report(const std::string& node, std::vector<StepRecord> steps) {
    std::lock_guard lock(mutex_);
    change_and_save(
        nodes_, node,
        [&](NodeRecord& r) {
            r.steps = std::move(steps);
            r.last_refusal.clear();
        },
        [this] { save_soon_locked(); });
}

std::optional<NodeRecord> SiteState::node(const std::string& name) const {
    std::lock_guard lock(mutex_);
    auto it = nodes_.find(name);
    if (it == nodes_.end()) return std::nullopt;
    return it->second;
}

std::vector<NodeRecord> SiteState::nodes() const {
    std::lock_guard lock(mutex_);
    std::vector<NodeRecord> out;
    out.reserve(nodes_.size());
    for (const auto& [name, r] : nodes_) out.push_back(r);
    return out;
}

int SiteState::roster_generation() const {
    std::lock_guard lock(mutex_);
    return std::accumulate(nodes_.begin(), nodes_.end(), 0,
                           [](int sum, const auto& n) { return sum + n.second.generation; });
}

std::string format_utc(double unix_seconds) {
    std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[64];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return text;
}

}  // namespace airstrap::firstboot
