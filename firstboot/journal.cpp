#include "firstboot/journal.hpp"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/text.hpp"
#include "firstboot/state_file.hpp"

namespace airstrap::firstboot {

using nlohmann::json;

namespace {

constexpr int journal_format = 1;
constexpr std::size_t max_journal_bytes = 1 << 20;

[[noreturn]] void corrupt(const std::filesystem::path& file, const std::string& why) {
    throw InputError(file.string() + ": not a journal this airstrap can read (" + why +
                     "); remove it to start over: every step of this node then runs again");
}

std::vector<StepRecord> load_steps(const std::filesystem::path& file) {
    auto loaded = load_state_file(file, max_journal_bytes, journal_format,
                                  [&](const std::string& why) { corrupt(file, why); });
    if (!loaded) return {};
    const json& doc = *loaded;
    auto steps = doc.find("steps");
    if (steps == doc.end() || !steps->is_array()) corrupt(file, "steps: expected a list");
    std::vector<StepRecord> out;
    for (std::size_t i = 0; i < steps->size(); ++i) {
        std::string where = "steps[" + std::to_string(i) + "]";
        try {
            out.push_back(step_from_json((*steps)[i], where));
        } catch (const InputError& e) {
            corrupt(file, e.what());
        }
        for (std::size_t k = 0; k + 1 < out.size(); ++k) {
            if (out[k].name == out.back().name)
                corrupt(file, where + ": step '" + out.back().name + "' appears twice");
        }
    }
    return out;
}

}  // namespace

const char* to_string(StepState s) {
    switch (s) {
        case StepState::pending:
            return "pending";
        case StepState::running:
            return "running";
        case StepState::done:
            return "done";
        case StepState::failed:
            return "failed";
    }
    return "?";
}

std::optional<StepState> step_state_from(const std::string& s) {
    for (StepState st :
         {StepState::pending, StepState::running, StepState::done, StepState::failed}) {
        if (s == to_string(st)) return st;
    }
    return std::nullopt;
}

json step_to_json(const StepRecord& s) {
    return {{"name", s.name},         {"state", to_string(s.state)}, {"detail", s.detail},
            {"attempts", s.attempts}, {"started", s.started},        {"finished", s.finished}};
}

StepRecord step_from_json(const json& j, const std::string& where) {
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
    auto seconds = [&](const char* key) {
        const json& v = field(key);
        if (!v.is_number() || v.get<double>() < 0)
            throw InputError(where + "." + key + ": expected unix seconds");
        return v.get<double>();
    };
    StepRecord r;
    r.name = string("name");
    if (r.name.empty()) throw InputError(where + ".name: empty");
    std::string state = string("state");
    auto parsed = step_state_from(state);
    if (!parsed) throw InputError(where + ".state: unknown state '" + state + "'");
    r.state = *parsed;
    r.detail = string("detail");
    const json& attempts = field("attempts");
    if (!attempts.is_number_integer() || attempts.get<long long>() < 0 ||
        attempts.get<long long>() > 1'000'000'000)
        throw InputError(where + ".attempts: expected a whole number from 0");
    r.attempts = attempts.get<int>();
    r.started = seconds("started");
    r.finished = seconds("finished");
    return r;
}

Journal::Journal(std::filesystem::path file, const std::vector<std::string>& steps)
    : file_(std::move(file)), order_(steps) {
    for (const auto& name : order_) {
        StepRecord r;
        r.name = name;
        if (!records_.emplace(name, r).second)
            throw Error("journal: step '" + name + "' is twice in the plan");
    }
    // A step found running was interrupted (kill, power loss): it stays running, not done,
    // with its attempts, and the daemon runs it again.
    for (auto& r : load_steps(file_)) {
        auto it = records_.find(r.name);
        if (it != records_.end()) it->second = std::move(r);
    }
}

namespace {

// Details can carry a command's output: invalid UTF-8 is replaced, never a reason to throw.
std::string journal_text(const std::vector<std::string>& order,
                         const std::map<std::string, StepRecord>& records) {
    json steps = json::array();
    for (const auto& name : order) steps.push_back(step_to_json(records.at(name)));
    return json{{"format", journal_format}, {"steps", std::move(steps)}}.dump(
        2, ' ', false, json::error_handler_t::replace);
}

StepRecord& find_step(std::map<std::string, StepRecord>& records, const std::string& step) {
    auto it = records.find(step);
    if (it == records.end()) throw Error("journal: no step '" + step + "' in this node's plan");
    return it->second;
}

}  // namespace

void Journal::start(const std::string& step) {
    std::lock_guard lock(mutex_);
    StepRecord& r = find_step(records_, step);
    r.state = StepState::running;
    ++r.attempts;
    r.started = unix_now();
    r.finished = 0;
    save_locked();
}

void Journal::finish(const std::string& step, const std::string& detail) {
    std::lock_guard lock(mutex_);
    StepRecord& r = find_step(records_, step);
    r.state = StepState::done;
    r.detail = detail;
    r.finished = unix_now();
    save_locked();
}

void Journal::fail(const std::string& step, const std::string& detail) {
    std::lock_guard lock(mutex_);
    StepRecord& r = find_step(records_, step);
    r.state = StepState::failed;
    r.detail = detail;
    r.finished = unix_now();
    save_locked();
}

void Journal::reset_from(const std::string& step) {
    std::lock_guard lock(mutex_);
    auto first = std::find(order_.begin(), order_.end(), step);
    if (first == order_.end()) {
        std::string msg = "--rerun: no step '" + step + "' in this node's plan";
        if (auto guess = text::closest(step, order_)) msg += " (did you mean '" + *guess + "'?)";
        throw InputError(msg + "; its steps are: " + text::join(order_, ", "));
    }
    for (auto it = first; it != order_.end(); ++it) {
        StepRecord& r = records_.at(*it);
        r.state = StepState::pending;
        r.detail.clear();
        r.started = 0;
        r.finished = 0;  // attempts stay: they count every run, for the status
    }
    save_locked();
}

bool Journal::done(const std::string& step) const {
    std::lock_guard lock(mutex_);
    auto it = records_.find(step);
    if (it == records_.end()) throw Error("journal: no step '" + step + "' in this node's plan");
    return it->second.state == StepState::done;
}

bool Journal::all_done() const {
    std::lock_guard lock(mutex_);
    return std::all_of(records_.begin(), records_.end(),
                       [](const auto& r) { return r.second.state == StepState::done; });
}

std::vector<StepRecord> Journal::records() const {
    std::lock_guard lock(mutex_);
    std::vector<StepRecord> out;
    out.reserve(order_.size());
    for (const auto& name : order_) out.push_back(records_.at(name));
    return out;
}

std::string Journal::to_json() const {
    std::lock_guard lock(mutex_);
    return journal_text(order_, records_);
}

void Journal::save_locked() const {
    std::string text = journal_text(order_, records_);
    save_state_file(file_, text);
}

}  // namespace airstrap::firstboot
