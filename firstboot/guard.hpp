// Admission control and accounting for the controller's enrolment service: who may open a
// session (the management network only, a few sessions per address, a bounded number from
// addresses that are no node's), and what unauthenticated traffic did (bad or empty frames,
// idle connections, failed proofs, unknown names, beacons that do not verify).
//
// Unauthenticated traffic is anyone's to send, so it is counted in memory only: it never
// touches enrolled.json, never shows as a node's state, and is logged as one summary line per
// source address per minute, e.g.
//   192.168.111.99: 312 sessions failed in the last minute (first frame not sent in 2 s: 300,
//   proof does not verify: 12; claimed: compute-node)
// The counts since the daemon started are published to run_dir/unauthenticated.json (tmpfs,
// 0600, replaced atomically, at most every 5 s) for `airstrap status`. Memory is bounded: a
// fixed number of addresses is tracked, the rest are counted together as "other addresses".
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "firstboot/log.hpp"
#include "node/site_json.hpp"

namespace airstrap::firstboot {

struct GuardLimits {
    int per_source = 4;   // sessions at once from one address
    int strangers = 256;  // sessions at once from all addresses that are no node's
    std::chrono::milliseconds first_frame{2000};     // for the first frame (hello) of a session
    std::size_t sources = 256;                       // addresses tracked one by one
    std::chrono::milliseconds summary_every{60000};  // one log line per address per this
    std::chrono::milliseconds publish_every{5000};   // unauthenticated.json at most this often
};

// What one address did since the daemon started, as published and as status shows it.
struct UnauthenticatedSource {
    std::string address;             // other_addresses for the addresses past the limit
    std::vector<std::string> names;  // node names it claimed (a few, in order first claimed)
    long long total = 0;
    std::vector<std::pair<std::string, long long>> counts;  // per reason, most first
    std::string last_reason;
    double last_seen = 0;  // unix seconds

    bool operator==(const UnauthenticatedSource&) const = default;
};
inline constexpr const char* other_addresses = "other addresses";

// {"format": 1, "sources": [{"address", "names", "total", "counts": {reason: n}, "last_reason",
// "last_seen"}…]}, the most active first.
nlohmann::json unauthenticated_to_json(const std::vector<UnauthenticatedSource>& sources);
// InputError naming what is wrong.
std::vector<UnauthenticatedSource> unauthenticated_from_json(const nlohmann::json& j);

class Guard {
  public:
    // The management network and the nodes' addresses come from the site.
    Guard(const node::Site& site, Log& log, GuardLimits limits = {});

    // A session's place: held while the session runs, given back by release() or the
    // destructor. Empty (false) when the session is refused.
    class Ticket {
      public:
        Ticket() = default;
        Ticket(Ticket&& o) noexcept : guard_(std::exchange(o.guard_, nullptr)), peer_(o.peer_) {}
        Ticket& operator=(Ticket&& o) noexcept;
        Ticket(const Ticket&) = delete;
        Ticket& operator=(const Ticket&) = delete;
        ~Ticket() { release(); }
        explicit operator bool() const { return guard_ != nullptr; }
        void release();

      private:
        friend class Guard;
        Ticket(Guard* guard, std::string peer) : guard_(guard), peer_(std::move(peer)) {}
        Guard* guard_ = nullptr;
        std::string peer_;
    };

    // Called for each accepted connection before anything is read from it. Refused (and
    // counted): an address outside the management network, a sixth… session from one
    // address (per_source), a session from a stranger when `strangers` are already open.
    Ticket admit(const std::string& peer);
    bool in_network(const std::string& peer) const;
    const GuardLimits& limits() const { return limits_; }

    // An unauthenticated session that failed: `claimed` is the node name it gave ("" if
    // none), `reason` one of a few fixed phrases ("first frame not sent in 2 s", "proof does
    // not verify", "unknown name", …): counts are kept per reason.
    void failed(const std::string& peer, const std::string& claimed, std::string_view reason);
    // The same for a beacon that was malformed or does not verify.
    void failed_beacon(const std::string& peer, const std::string& claimed,
                       std::string_view reason);

    // Writes the summary lines that are due and publishes when due. Called often (every
    // 200 ms by the acceptor).
    void tick();
    // Publishes to `file` from now on, starting with the current counts at once (a previous
    // daemon's file is replaced).
    void publish_to(std::filesystem::path file);

    std::vector<UnauthenticatedSource> sources() const;  // the most active first
    int sessions() const;                                // admitted and not released

  private:
    using Clock = std::chrono::steady_clock;
    struct Source {
        std::map<std::string, long long> counts;
        long long total = 0;
        std::vector<std::string> names;
        std::string last_reason;
        double last_seen = 0;
        Clock::time_point last_activity{};
        // Since the last summary line.
        std::map<std::string, long long> window;
        long long window_sessions = 0, window_beacons = 0;
        std::vector<std::string> window_names;
        std::optional<Clock::time_point> last_logged;
    };
    void count(const std::string& peer, const std::string& claimed, std::string_view reason,
               bool beacon);
    Source& source_locked(const std::string& peer, Clock::time_point now);
    std::optional<std::string> summary_locked(const std::string& address, Source& s,
                                              Clock::time_point now);
    std::vector<UnauthenticatedSource> sources_locked() const;
    void publish_locked(std::vector<std::string>& problems);
    void release(const std::string& peer);
    bool is_node(const std::string& peer) const { return node_addresses_.count(peer) > 0; }

    Log& log_;
    GuardLimits limits_;
    std::uint32_t network_ = 0, mask_ = 0;
    std::set<std::string> node_addresses_;

    mutable std::mutex mutex_;
    std::map<std::string, int> active_;  // open sessions per address
    int strangers_active_ = 0, total_active_ = 0;
    std::map<std::string, Source> sources_;
    std::filesystem::path publish_file_;
    bool dirty_ = false;
    Clock::time_point last_publish_{};
    std::string last_publish_error_;
};

}  // namespace airstrap::firstboot
