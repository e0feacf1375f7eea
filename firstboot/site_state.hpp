// The controller's view of the whole site, kept on disk (state_dir/enrolled.json): which node
// is pinned to which SSH host keys, what each node last reported, which nodes were heard but
// refused and why, and open rejoin windows. Thread-safe; every change is written atomically
// (temp file, fsync, rename) before the caller acts on it.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "firstboot/journal.hpp"

namespace airstrap::firstboot {

struct NodeRecord {
    std::string name;
    std::vector<std::string> host_keys;  // "ssh-ed25519 AAAA…" lines, sorted, no comments
    bool enrolled = false;
    int generation = 0;             // bumped on every (re-)enrolment; nodes re-fetch the roster
    std::string address;            // where it last connected from
    std::string last_refusal;       // why the last attempt was refused ("" if none)
    double last_seen = 0;           // unix seconds of the last beacon or connection
    std::vector<StepRecord> steps;  // the node's journal, as last reported

    bool operator==(const NodeRecord&) const = default;
};

class SiteState {
  public:
    // Loads `file` if present (InputError naming it if it is corrupt); loading never writes.
    // Rejoin windows are files rejoin_dir/NODE, so that `airstrap-firstboot rejoin NODE`
    // (another process) can open one while the daemon runs.
    SiteState(std::filesystem::path file, std::filesystem::path rejoin_dir);
    ~SiteState();  // flushes what is pending (best effort)

    enum class PinResult {
        pinned_new,
        unchanged,
        rejoined,
        refused_changed_key,
        refused_window_expired  // changed keys, and the node's rejoin window has expired
    };
    // Enrolment: a node presents its host keys. New node → pinned. Same keys → unchanged.
    // Different keys → refused unless a rejoin window is open for it (then re-pinned, the
    // window closed, generation bumped). A window is used up only by an enrolment whose keys
    // changed: a first enrolment or one with the pinned keys leaves it open. A window past its
    // expiry is closed: changed keys are then refused with a last_refusal that says when it
    // expired. Host keys are compared sorted. The refusal is kept with the address it came
    // from (a squatter holding the node's key, or a node reinstalled without a window).
    PinResult pin(const std::string& node, std::vector<std::string> host_keys,
                  const std::string& address);

    // A window is a file rejoin_dir/NODE, {"node", "opened", "expires"} (unix seconds), left
    // in place once expired (closed: it only says when it expired) until the next
    // open_rejoin replaces it. Returns when the new window expires. `window` is site.json's
    // firstboot.rejoin_window (its default here).
    static double open_rejoin(const std::filesystem::path& rejoin_dir, const std::string& node,
                              std::chrono::seconds window = std::chrono::seconds(3600));
    struct RejoinWindow {
        double opened = 0, expires = 0;  // unix seconds; an unreadable file: both 0 (expired)
        bool open(double now) const { return now < expires; }
    };
    std::optional<RejoinWindow> rejoin_window(const std::string& node) const;
    bool rejoin_open(const std::string& node) const;  // a window that has not expired

    // Unknown nodes get a record (not enrolled). `report` is called only for a session proven
    // with the node's pinned keys, so it also clears an older refusal (someone else's beacon).
    void refused(const std::string& node, const std::string& address, const std::string& why);
    // Beacons and reports arrive many times a second on a big site: they are saved at most
    // once a second (a pin or refusal is saved at once); flush() writes what is pending — the
    // daemon calls it from its loops, so status on disk lags by a second or two at most.
    void seen(const std::string& node, const std::string& address);
    void report(const std::string& node, std::vector<StepRecord> steps);
    void flush();

    std::optional<NodeRecord> node(const std::string& name) const;
    std::vector<NodeRecord> nodes() const;  // sorted by name
    int roster_generation() const;          // sum of generations: changes when any pin changes

  private:
    void save_locked() const;
    void save_soon_locked() const;
    mutable bool dirty_ = false;
    mutable std::chrono::steady_clock::time_point last_save_{};
    std::filesystem::path file_;
    std::map<std::string, NodeRecord> nodes_;
    std::filesystem::path rejoin_dir_;
    mutable std::mutex mutex_;
};

// "2026-12-05 13:20:00 UTC": times shown to the operator (rejoin expiry).
std::string format_utc(double unix_seconds);

}  // namespace airstrap::firstboot
