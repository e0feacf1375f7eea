// The daemon's journal of steps, on disk (state_dir/journal.json). A step is marked done only
// after its effects are durable; every update is written to a temp file, fsynced and renamed,
// so kill -9 or power loss at any point leaves either the old or the new journal, and the next
// start resumes from the first step not done.
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

namespace airstrap::firstboot {

enum class StepState { pending, running, done, failed };
const char* to_string(StepState s);
std::optional<StepState> step_state_from(const std::string& s);

struct StepRecord {
    std::string name;
    StepState state = StepState::pending;
    std::string detail;  // one line: what was done, or why it failed
    int attempts = 0;    // times the step was started
    double started = 0;  // unix seconds (wall clock; informative only, may be pre-chrony)
    double finished = 0;

    bool operator==(const StepRecord&) const = default;
};

// One step as the journal and enrolled.json store it:
// {name, state, detail, attempts, started, finished}.
nlohmann::json step_to_json(const StepRecord& s);
// InputError("WHERE: …") when a field is missing or of the wrong type, or the state unknown.
StepRecord step_from_json(const nlohmann::json& j, const std::string& where);

class Journal {
  public:
    // Loads the journal if present (InputError naming the file if it is corrupt), else empty.
    // `steps` is this node's plan in order; steps missing from the file are pending, steps in
    // the file that are not in the plan are dropped. Loading never writes (`status` loads the
    // journal while the daemon runs); the first change does. Changes to a step not in the plan
    // throw Error (reset_from: InputError naming the plan, it comes from --rerun).
    Journal(std::filesystem::path file, const std::vector<std::string>& steps);

    // A step found `running` on load was interrupted: it is run again (steps are idempotent).
    void start(const std::string& step);                              // → running, attempts++
    void finish(const std::string& step, const std::string& detail);  // → done
    void fail(const std::string& step, const std::string& detail);    // → failed
    // Marks a step (and every later one) pending again: `airstrap-firstboot run --rerun STEP`.
    void reset_from(const std::string& step);

    bool done(const std::string& step) const;
    bool all_done() const;
    std::vector<StepRecord> records() const;  // in plan order
    std::string to_json() const;              // the file's content: {"format":1,"steps":[…]}

  private:
    void save_locked() const;  // atomic write + fsync of file and folder

    std::filesystem::path file_;
    std::vector<std::string> order_;
    std::map<std::string, StepRecord> records_;
    mutable std::mutex mutex_;
};

}  // namespace airstrap::firstboot
