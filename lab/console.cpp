#include "lab/console.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "common/error.hpp"
#include "common/text.hpp"

namespace airstrap::lab {

void LineSplitter::feed(std::string_view bytes,
                        const std::function<void(const std::string&)>& on_line) {
    auto end_line = [&] {
        on_line(line_);
        line_.clear();
        cut_ = false;
        escape_ = Escape::none;
    };
    for (char ch : bytes) {
        auto c = static_cast<unsigned char>(ch);
        if (c == '\n') {
            end_line();
            continue;
        }
        switch (escape_) {
            case Escape::esc:
                escape_ = c == '[' ? Escape::csi : c == ']' ? Escape::osc : Escape::none;
                continue;
            case Escape::csi:
                // Parameter and intermediate bytes go on; a final byte (or anything else) ends it.
                if (c < 0x20 || c > 0x3f) escape_ = Escape::none;
                continue;
            case Escape::osc:
                if (c == 0x07) escape_ = Escape::none;
                if (c == 0x1b) escape_ = Escape::osc_esc;
                continue;
            case Escape::osc_esc:
                escape_ = Escape::none;
                continue;
            case Escape::none:
                break;
        }
        if (c == 0x1b) {
            escape_ = Escape::esc;
            continue;
        }
        if (c == '\t') c = ' ';
        if (c < 0x20 || c == 0x7f) continue;  // CR, BEL, backspace, NUL …
        if (line_.size() < max_line_) {
            line_ += static_cast<char>(c);
        } else {
            cut_ = true;
        }
    }
}

void LineSplitter::finish(const std::function<void(const std::string&)>& on_line) {
    if (!line_.empty()) on_line(line_);
    line_.clear();
    cut_ = false;
    escape_ = Escape::none;
}

const char* to_string(EventKind kind) {
    switch (kind) {
        case EventKind::system_up:
            return "system_up";
        case EventKind::started:
            return "started";
        case EventKind::step_done:
            return "step_done";
        case EventKind::step_retrying:
            return "step_retrying";
        case EventKind::step_gave_up:
            return "step_gave_up";
        case EventKind::all_done:
            return "all_done";
    }
    return "?";
}

namespace {

// "2026-12-06T02:05:17.123Z " at `at`.
constexpr std::string_view stamp_shape = "dddd-dd-ddTdd:dd:dd.dddZ ";

bool stamp_at(std::string_view line, std::size_t at) {
    if (line.size() - at < stamp_shape.size()) return false;
    for (std::size_t i = 0; i < stamp_shape.size(); ++i) {
        char want = stamp_shape[i];
        char got = line[at + i];
        if (want == 'd' ? !std::isdigit(static_cast<unsigned char>(got)) : got != want) {
            return false;
        }
    }
    return true;
}

// The message after "STAMP NODE: " for this node, if the line has one.
std::optional<std::string_view> daemon_message(std::string_view line, std::string_view node) {
    if (node.empty() || line.size() < stamp_shape.size()) return std::nullopt;
    for (std::size_t at = 0; at + stamp_shape.size() <= line.size(); ++at) {
        if (line[at] < '0' || line[at] > '9' || !stamp_at(line, at)) continue;
        std::string_view rest = line.substr(at + stamp_shape.size());
        if (rest.size() > node.size() + 1 && rest.substr(0, node.size()) == node &&
            rest.substr(node.size(), 2) == ": ") {
            return rest.substr(node.size() + 2);
        }
    }
    return std::nullopt;
}

constexpr std::array<std::string_view, 5> system_up_markers{
    "fixture-init: booted",              // tests/fixtures/distro's busybox init
    "Reached target network.target",     // systemd ≥ 250: "UNIT - Description"
    "Reached target Network",            // older systemd: the description only
    "Reached target multi-user.target",  //
    "Reached target Multi-User System",
};

// "N times; " after "STEP failed ".
bool gave_up_tail(std::string_view rest) {
    std::size_t i = 0;
    while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) ++i;
    return i > 0 && rest.substr(i).starts_with(" times; ");
}

}  // namespace

std::optional<ConsoleEvent> parse_console_line(std::string_view line, std::string_view node,
                                               const std::vector<std::string>& steps) {
    auto found = daemon_message(line, node);
    if (!found) {
        for (auto marker : system_up_markers) {
            if (line.find(marker) != std::string_view::npos) {
                return ConsoleEvent{EventKind::system_up, "", std::string(marker)};
            }
        }
        return std::nullopt;
    }
    std::string_view message = *found;
    constexpr std::string_view warning = "warning: ";
    if (message.starts_with(warning)) {
        message.remove_prefix(warning.size());
        constexpr std::string_view retrying = " (retrying)";
        for (const auto& step : steps) {
            std::string failed = step + " failed";
            if (!message.starts_with(failed)) continue;
            std::string_view rest = message.substr(failed.size());
            if (rest.starts_with(": ") && rest.ends_with(retrying) &&
                rest.size() >= 2 + retrying.size()) {
                return ConsoleEvent{EventKind::step_retrying, step,
                                    std::string(rest.substr(2, rest.size() - 2 - retrying.size()))};
            }
            if (rest.starts_with(" ") && gave_up_tail(rest.substr(1))) {
                return ConsoleEvent{EventKind::step_gave_up, step, std::string(message)};
            }
        }
        return std::nullopt;
    }
    if (message.starts_with("starting as the ")) {
        return ConsoleEvent{EventKind::started, "", std::string(message)};
    }
    if (message.starts_with("all steps done")) {
        std::string_view detail = message.substr(std::string_view("all steps done").size());
        if (detail.starts_with(": ")) detail.remove_prefix(2);
        return ConsoleEvent{EventKind::all_done, "", std::string(detail)};
    }
    for (const auto& step : steps) {
        if (message.size() > step.size() + 1 && message.starts_with(step) &&
            message.substr(step.size(), 2) == ": ") {
            return ConsoleEvent{EventKind::step_done, step,
                                std::string(message.substr(step.size() + 2))};
        }
    }
    return std::nullopt;
}

const char* to_string(Phase phase) {
    switch (phase) {
        case Phase::boot:
            return "boot";
        case Phase::system_up:
            return "system up";
        case Phase::first_boot:
            return "first boot";
        case Phase::done:
            return "done";
        case Phase::failed:
            return "failed";
    }
    return "?";
}

bool NodeProgress::has_done(std::string_view step) const {
    return std::find(done.begin(), done.end(), step) != done.end();
}

std::string NodeProgress::current() const {
    if (phase == Phase::boot || phase == Phase::system_up || phase == Phase::done) return "";
    for (const auto& step : plan) {
        if (!has_done(step)) return step;
    }
    return "";
}

std::string NodeProgress::apply(const ConsoleEvent& e) {
    auto enter = [&](Phase next) {
        std::string line = std::string(to_string(phase)) + " → " + to_string(next);
        phase = next;
        return line;
    };
    switch (e.kind) {
        case EventKind::system_up:
            return phase == Phase::boot ? enter(Phase::system_up) : "";
        case EventKind::started:
            if (phase == Phase::first_boot) return "first boot: the daemon started again";
            return enter(Phase::first_boot);
        case EventKind::step_done: {
            std::string line;
            if (phase == Phase::boot || phase == Phase::system_up) {
                line = enter(Phase::first_boot) + "; ";
            }
            if (retrying == e.step) retrying.clear(), retry_why.clear();
            if (has_done(e.step)) return line.empty() ? "" : line.substr(0, line.size() - 2);
            done.push_back(e.step);
            return line + e.step + " → done";
        }
        case EventKind::step_retrying:
            if (phase == Phase::boot || phase == Phase::system_up) phase = Phase::first_boot;
            retrying = e.step;
            retry_why = e.detail;
            return e.step + " → failed: " + e.detail + " (retrying)";
        case EventKind::step_gave_up:
            failed_step = e.step;
            failure = retrying == e.step && !retry_why.empty() ? retry_why : e.detail;
            phase = Phase::failed;
            return e.step + " → gave up: " + failure;
        case EventKind::all_done:
            if (phase == Phase::done) return "";
            return enter(Phase::done);
    }
    return "";
}

Verdict judge(const std::vector<NodeProgress>& nodes, const std::optional<std::string>& until) {
    for (const auto& n : nodes) {
        if (n.phase == Phase::failed) {
            return {Verdict::State::failed,
                    n.node + ": step " + n.failed_step + " gave up: " + n.failure};
        }
    }
    if (!until) {
        bool any_controller = false;
        for (const auto& n : nodes) {
            if (!n.controller) continue;
            any_controller = true;
            if (n.phase != Phase::done) return {};
        }
        if (!any_controller) return {};
        return {Verdict::State::passed, "the controller logged all steps done"};
    }
    std::vector<std::string> who;
    for (const auto& n : nodes) {
        if (std::find(n.plan.begin(), n.plan.end(), *until) == n.plan.end()) continue;
        if (!n.has_done(*until)) return {};
        who.push_back(n.node);
    }
    if (who.empty()) return {};
    return {Verdict::State::passed, *until + " done on " + text::join(who, ", ")};
}

std::vector<std::string> all_steps(const std::vector<NodeProgress>& nodes) {
    std::vector<const NodeProgress*> order;
    for (const auto& n : nodes)
        if (n.controller) order.push_back(&n);
    for (const auto& n : nodes)
        if (!n.controller) order.push_back(&n);
    std::vector<std::string> steps;
    for (const auto* n : order) {
        for (const auto& s : n->plan) {
            if (std::find(steps.begin(), steps.end(), s) == steps.end()) steps.push_back(s);
        }
    }
    return steps;
}

void check_until(const std::string& until, const std::vector<NodeProgress>& nodes) {
    auto steps = all_steps(nodes);
    if (std::find(steps.begin(), steps.end(), until) != steps.end()) return;
    auto near = text::closest(until, steps);
    throw InputError("--until: unknown step '" + until + "'" +
                     (near ? " (did you mean '" + *near + "'?)" : std::string()) +
                     "; the first-boot steps of this site are: " + text::join(steps, ", "));
}

}  // namespace airstrap::lab
