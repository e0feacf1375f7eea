// What a node's serial console says about it. The first-boot daemon's unit writes its log to
// the console (packaging/airstrap-firstboot.service: StandardOutput=journal+console), one line
// per event: `YYYY-MM-DDTHH:MM:SS.mmmZ NODE: [warning: ]MESSAGE` (firstboot/log.cpp). The
// pattern is looked for anywhere in a line: the fixture's busybox init puts `[UNIT] ` in front,
// systemd's console interleaves its own `[  OK  ] …` lines. Pure functions, no I/O.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace airstrap::lab {

// Lines out of a byte stream as it arrives: carriage returns, terminal escape sequences
// (CSI, OSC, two-byte ESC) and other control bytes dropped; a line longer than `max_line`
// is cut there and the rest of it, up to its newline, dropped.
class LineSplitter {
  public:
    explicit LineSplitter(std::size_t max_line = 4096) : max_line_(max_line) {}
    // Appends `bytes` to what came before; calls `on_line` for each line it completes.
    void feed(std::string_view bytes, const std::function<void(const std::string&)>& on_line);
    // The last line when the stream ends without a newline.
    void finish(const std::function<void(const std::string&)>& on_line);

  private:
    enum class Escape { none, esc, csi, osc, osc_esc };
    std::size_t max_line_;
    std::string line_;
    bool cut_ = false;
    Escape escape_ = Escape::none;
};

enum class EventKind {
    system_up,      // the installed system's init is running (before the daemon logs)
    started,        // "starting as the ROLE of site SITE (ADDRESS)"
    step_done,      // "STEP: DETAIL"
    step_retrying,  // "warning: STEP failed: WHY (retrying)"
    step_gave_up,   // "warning: STEP failed N times; …": stays failed until a restart
    all_done,       // "all steps done: …"
};
const char* to_string(EventKind kind);

struct ConsoleEvent {
    EventKind kind = EventKind::system_up;
    std::string step;    // step_done, step_retrying, step_gave_up
    std::string detail;  // what the daemon said after the step (or the whole message)
};

// One cleaned console line (LineSplitter's) of `node`'s console: the daemon's event when the
// line has its pattern with `node`'s name (a line naming another node is not about this one),
// `system_up` for init's own lines (systemd's "Welcome to …"/"Reached target", the fixture
// init's "fixture-init: booted"), else nothing. A step counts only when `steps` (the node's
// plan) names it, so that other messages of the form "WORD: …" are not taken for steps.
std::optional<ConsoleEvent> parse_console_line(std::string_view line, std::string_view node,
                                               const std::vector<std::string>& steps);

enum class Phase { boot, system_up, first_boot, done, failed };
const char* to_string(Phase phase);  // "boot", "system up", "first boot", "done", "failed"

// One node's progress, fed its console's events in order.
struct NodeProgress {
    NodeProgress(std::string name, std::vector<std::string> steps, bool is_controller)
        : node(std::move(name)), plan(std::move(steps)), controller(is_controller) {}

    std::string node;
    std::vector<std::string> plan;  // the daemon's steps for this node, in order
    bool controller = false;

    Phase phase = Phase::boot;
    std::vector<std::string> done;     // steps logged done, in the order they were
    std::string retrying, retry_why;   // the step failing now and why (until it is done)
    std::string failed_step, failure;  // a step that gave up (phase failed)

    bool has_done(std::string_view step) const;
    // The step running now: the first of the plan not done ("" before the daemon starts,
    // and once every step is done).
    std::string current() const;
    // Applies `e`; returns the line to log when something visible changed ("" otherwise):
    // "boot → system up", "chrony → done", "chrony → failed: WHY (retrying)", …
    std::string apply(const ConsoleEvent& e);
};

// Where the site stands.
struct Verdict {
    enum class State { running, passed, failed } state = State::running;
    std::string message;  // passed: what was reached; failed: the node, the step and why
};

// passed: without `until`, the controller logged "all steps done"; with it, every node whose
// plan has `until` logged it done. failed: a node's step gave up (checked first).
Verdict judge(const std::vector<NodeProgress>& nodes, const std::optional<std::string>& until);

// Every step name of the plans, each once, in plan order (the controller's first).
std::vector<std::string> all_steps(const std::vector<NodeProgress>& nodes);
// InputError naming `until` and every step when no plan has it.
void check_until(const std::string& until, const std::vector<NodeProgress>& nodes);

}  // namespace airstrap::lab
