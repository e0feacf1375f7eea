// A recording CommandRunner for the step tests: every argv (and input, terminal, environment
// of the calls that have them) recorded; answers from rules matched by argv prefix.
#pragma once

#include <algorithm>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/subprocess.hpp"
#include "common/text.hpp"

namespace airstrap::firstboot::testing {

// Records every argv; answers from rules matched by argv prefix, the latest rule first. A rule
// with several results gives them in turn and then repeats the last; its effect runs first
// (e.g. ssh-keygen writing its files into the sandbox). Unmatched commands exit 0 silently.
class FakeRunner : public CommandRunner {
  public:
    using Effect = std::function<void(const std::vector<std::string>&)>;

    void on(const std::string& prefix, std::vector<ProcessResult> results, Effect effect = {}) {
        rules_.push_back({text::split(prefix, ' '), std::move(results), std::move(effect), 0});
    }
    void on(const std::string& prefix, int exit_code, const std::string& output = "",
            Effect effect = {}) {
        on(prefix, std::vector<ProcessResult>{{exit_code, output}}, std::move(effect));
    }

    // verify_ssh runs its checks from several threads at once.
    ProcessResult run(const std::vector<std::string>& argv) override {
        std::lock_guard lock(mutex_);
        return answer(argv);
    }
    // Input and environment are recorded per call; the output is handed over in one piece.
    ProcessResult run(const std::vector<std::string>& argv, const RunOptions& options) override {
        ProcessResult r;
        {
            std::lock_guard lock(mutex_);
            r = answer(argv);
            inputs.push_back(options.input);
            terminal.push_back(options.input_is_terminal);
            environments.push_back(options.environment);
        }
        if (options.on_output) options.on_output(r.output);
        return r;
    }

    std::vector<std::string> inputs;  // per run(argv, options) call
    std::vector<bool> terminal;
    std::vector<std::vector<std::pair<std::string, std::string>>> environments;

  private:
    ProcessResult answer(const std::vector<std::string>& argv) {
        calls.push_back(argv);
        for (auto it = rules_.rbegin(); it != rules_.rend(); ++it) {
            if (argv.size() < it->prefix.size() ||
                !std::equal(it->prefix.begin(), it->prefix.end(), argv.begin())) {
                continue;
            }
            if (it->effect) it->effect(argv);
            std::size_t i = std::min(it->used++, it->results.size() - 1);
            return it->results[i];
        }
        return {0, ""};
    }

  public:
    // Each call as one string, arguments joined by spaces (an empty argument shows as '').
    std::vector<std::string> commands() const {
        std::vector<std::string> out;
        for (const auto& argv : calls) {
            std::vector<std::string> shown;
            for (const auto& a : argv) shown.push_back(a.empty() ? "''" : a);
            out.push_back(text::join(shown, " "));
        }
        return out;
    }
    bool ran(const std::string& prefix) const {
        for (const auto& c : commands()) {
            if (c.rfind(prefix, 0) == 0) return true;
        }
        return false;
    }

    std::vector<std::vector<std::string>> calls;

  private:
    struct Rule {
        std::vector<std::string> prefix;
        std::vector<ProcessResult> results;
        Effect effect;
        std::size_t used;
    };
    std::vector<Rule> rules_;
    std::mutex mutex_;
};

}  // namespace airstrap::firstboot::testing
