#include "firstboot/guard.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "firstboot/state_file.hpp"

namespace airstrap::firstboot {

using nlohmann::json;

namespace {

constexpr std::size_t max_names = 8;     // names claimed, kept per address
constexpr std::size_t max_reasons = 16;  // distinct reasons per address; more count as "other"
constexpr std::size_t max_name_bytes = 64;

std::optional<std::uint32_t> ipv4(const std::string& text) {
    in_addr a{};
    if (inet_pton(AF_INET, text.c_str(), &a) != 1) return std::nullopt;
    return ntohl(a.s_addr);
}

void add_name(std::vector<std::string>& names, const std::string& claimed) {
    if (claimed.empty() || names.size() >= max_names) return;
    std::string name = claimed.substr(0, max_name_bytes);
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
}

std::vector<std::pair<std::string, long long>> most_first(
    const std::map<std::string, long long>& counts) {
    std::vector<std::pair<std::string, long long>> out(counts.begin(), counts.end());
    std::stable_sort(out.begin(), out.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    return out;
}

std::string plural(long long n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

}  // namespace

// ------------------------------------------------------------------------------ the file

json unauthenticated_to_json(const std::vector<UnauthenticatedSource>& sources) {
    json list = json::array();
    for (const auto& s : sources) {
        json counts = json::object();
        for (const auto& [reason, n] : s.counts) counts[reason] = n;
        list.push_back({{"address", s.address},
                        {"names", s.names},
                        {"total", s.total},
                        {"counts", std::move(counts)},
                        {"last_reason", s.last_reason},
                        {"last_seen", s.last_seen}});
    }
    return {{"format", 1}, {"sources", std::move(list)}};
}

std::vector<UnauthenticatedSource> unauthenticated_from_json(const json& j) {
    if (!j.is_object() || j.value("format", 0) != 1)
        throw InputError("not a list of unauthenticated attempts of format 1");
    auto list = j.find("sources");
    if (list == j.end() || !list->is_array()) throw InputError("sources: expected a list");
    std::vector<UnauthenticatedSource> out;
    for (std::size_t i = 0; i < list->size(); ++i) {
        const json& e = (*list)[i];
        std::string where = "sources[" + std::to_string(i) + "]";
        try {
            UnauthenticatedSource s;
            s.address = e.at("address").get<std::string>();
            s.names = e.at("names").get<std::vector<std::string>>();
            s.total = e.at("total").get<long long>();
            std::map<std::string, long long> counts =
                e.at("counts").get<std::map<std::string, long long>>();
            s.counts = most_first(counts);
            s.last_reason = e.at("last_reason").get<std::string>();
            s.last_seen = e.at("last_seen").get<double>();
            out.push_back(std::move(s));
        } catch (const json::exception& x) {
            throw InputError(where + ": " + x.what());
        }
    }
    return out;
}

// ----------------------------------------------------------------------------- admission

Guard::Guard(const node::Site& site, Log& log, GuardLimits limits) : log_(log), limits_(limits) {
    std::string cidr = site.management_cidr();
    auto slash = cidr.find('/');
    auto base = ipv4(cidr.substr(0, slash));
    int prefix = 32;
    if (slash != std::string::npos) {
        try {
            prefix = std::stoi(cidr.substr(slash + 1));
        } catch (const std::exception&) {
            prefix = -1;
        }
    }
    if (!base || prefix < 0 || prefix > 32)
        throw InputError("site.json: the management network '" + cidr +
                         "' is not a.b.c.d/n (rebuild the media with this airstrap)");
    mask_ = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
    network_ = *base & mask_;
    for (const auto& n : site.nodes) {
        std::string a = site.address(n);
        if (!a.empty()) node_addresses_.insert(a);
    }
}

bool Guard::in_network(const std::string& peer) const {
    auto a = ipv4(peer);
    return a && (*a & mask_) == network_;
}

Guard::Ticket& Guard::Ticket::operator=(Ticket&& o) noexcept {
    if (this != &o) {
        release();
        guard_ = std::exchange(o.guard_, nullptr);
        peer_ = std::move(o.peer_);
    }
    return *this;
}

void Guard::Ticket::release() {
    if (guard_) std::exchange(guard_, nullptr)->release(peer_);
}

Guard::Ticket Guard::admit(const std::string& peer) {
    std::string refusal;
    {
        std::lock_guard lock(mutex_);
        bool node = is_node(peer);
        auto it = active_.find(peer);
        int mine = it == active_.end() ? 0 : it->second;
        if (!in_network(peer)) {
            refusal = "outside the management network";
        } else if (mine >= limits_.per_source) {
            refusal = "more than " + std::to_string(limits_.per_source) + " sessions at once";
        } else if (!node && strangers_active_ >= limits_.strangers) {
            refusal = "too many sessions at once from addresses that are no node's";
        } else {
            ++active_[peer];
            ++total_active_;
            if (!node) ++strangers_active_;
            return Ticket(this, peer);
        }
    }
    failed(peer, "", refusal);
    return Ticket();
}

void Guard::release(const std::string& peer) {
    std::lock_guard lock(mutex_);
    auto it = active_.find(peer);
    if (it == active_.end()) return;
    if (--it->second <= 0) active_.erase(it);
    --total_active_;
    if (!is_node(peer)) --strangers_active_;
}

int Guard::sessions() const {
    std::lock_guard lock(mutex_);
    return total_active_;
}

// ---------------------------------------------------------------------------- accounting

void Guard::failed(const std::string& peer, const std::string& claimed, std::string_view reason) {
    count(peer, claimed, reason, false);
}

void Guard::failed_beacon(const std::string& peer, const std::string& claimed,
                          std::string_view reason) {
    count(peer, claimed, reason, true);
}

Guard::Source& Guard::source_locked(const std::string& peer, Clock::time_point now) {
    auto it = sources_.find(peer);
    if (it != sources_.end()) return it->second;
    std::size_t tracked = sources_.size() - sources_.count(other_addresses);
    if (tracked >= limits_.sources) {
        // Forget an address quiet for ten summary periods whose last line is written;
        // otherwise this one is counted with the other addresses past the limit.
        auto quiet = std::find_if(sources_.begin(), sources_.end(), [&](const auto& e) {
            return e.first != other_addresses && e.second.window_sessions == 0 &&
                   e.second.window_beacons == 0 &&
                   now - e.second.last_activity > 10 * limits_.summary_every;
        });
        if (quiet == sources_.end()) return sources_[other_addresses];
        sources_.erase(quiet);
    }
    return sources_[peer];
}

void Guard::count(const std::string& peer, const std::string& claimed, std::string_view reason,
                  bool beacon) {
    std::optional<std::string> line;
    {
        std::lock_guard lock(mutex_);
        auto now = Clock::now();
        Source& s = source_locked(peer, now);
        std::string why(reason);
        if (!s.counts.count(why) && s.counts.size() >= max_reasons) why = "other";
        ++s.counts[why];
        ++s.total;
        ++s.window[why];
        ++(beacon ? s.window_beacons : s.window_sessions);
        add_name(s.names, claimed);
        add_name(s.window_names, claimed);
        s.last_reason = why;
        s.last_seen = unix_now();
        s.last_activity = now;
        dirty_ = true;
        // The first failure of a quiet address is logged at once, the rest once per period.
        auto it = sources_.find(peer);
        line = summary_locked(it == sources_.end() ? other_addresses : peer, s, now);
    }
    if (line) log_.warn(*line);
}

std::optional<std::string> Guard::summary_locked(const std::string& address, Source& s,
                                                 Clock::time_point now) {
    if (s.window_sessions == 0 && s.window_beacons == 0) return std::nullopt;
    if (s.last_logged && now - *s.last_logged < limits_.summary_every) return std::nullopt;
    std::string what;
    if (s.window_sessions > 0) what = plural(s.window_sessions, "session");
    if (s.window_sessions > 0 && s.window_beacons > 0) what += " and ";
    if (s.window_beacons > 0) what += plural(s.window_beacons, "beacon");
    std::string line = address + ": " + what + " failed in the last minute (";
    bool first = true;
    for (const auto& [reason, n] : most_first(s.window)) {
        line += (first ? "" : ", ") + reason + ": " + std::to_string(n);
        first = false;
    }
    if (!s.window_names.empty()) {
        line += "; claimed: ";
        for (std::size_t i = 0; i < s.window_names.size(); ++i)
            line += (i ? ", " : "") + s.window_names[i];
    }
    line += ")";
    s.window.clear();
    s.window_names.clear();
    s.window_sessions = s.window_beacons = 0;
    s.last_logged = now;
    return line;
}

void Guard::tick() {
    std::vector<std::string> lines;
    {
        std::lock_guard lock(mutex_);
        auto now = Clock::now();
        for (auto& [address, s] : sources_) {
            if (auto line = summary_locked(address, s, now)) lines.push_back(std::move(*line));
        }
        if (!publish_file_.empty() && dirty_ && now - last_publish_ >= limits_.publish_every)
            publish_locked(lines);
    }
    for (const auto& l : lines) log_.warn(l);
}

void Guard::publish_to(std::filesystem::path file) {
    std::vector<std::string> problems;
    {
        std::lock_guard lock(mutex_);
        publish_file_ = std::move(file);
        publish_locked(problems);
    }
    for (const auto& l : problems) log_.warn(l);
}

void Guard::publish_locked(std::vector<std::string>& problems) {
    last_publish_ = Clock::now();
    dirty_ = false;
    try {
        std::error_code ec;
        std::filesystem::path dir = publish_file_.parent_path();
        if (std::filesystem::create_directories(dir, ec))
            std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                                         std::filesystem::perm_options::replace, ec);
        write_file_atomic(publish_file_,
                          unauthenticated_to_json(sources_locked())
                                  .dump(1, ' ', false, json::error_handler_t::replace) +
                              "\n",
                          0600);
        last_publish_error_.clear();
    } catch (const std::exception& e) {
        // Said once, not every 5 s: status then lacks the counts, enrolment goes on.
        std::string problem = "cannot publish the unauthenticated attempts to " +
                              publish_file_.string() + ": " + describe(e);
        if (problem != last_publish_error_) problems.push_back(problem);
        last_publish_error_ = problem;
    }
}

std::vector<UnauthenticatedSource> Guard::sources_locked() const {
    std::vector<UnauthenticatedSource> out;
    for (const auto& [address, s] : sources_) {
        if (s.total == 0) continue;
        out.push_back(
            {address, s.names, s.total, most_first(s.counts), s.last_reason, s.last_seen});
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const auto& a, const auto& b) { return a.total > b.total; });
    return out;
}

std::vector<UnauthenticatedSource> Guard::sources() const {
    std::lock_guard lock(mutex_);
    return sources_locked();
}

}  // namespace airstrap::firstboot
