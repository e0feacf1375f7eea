// Running other programs (createrepo_c, rpm, …) without a shell: argv in, exit status and
// combined output back. Behind an interface, so that code which runs commands can be tested
// with a recording fake where the real command cannot run.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace airstrap {

struct ProcessResult {
    int exit_code = 0;   // 128 + signal number when the process was killed
    std::string output;  // stdout and stderr, interleaved as written
};

class CommandRunner {
  public:
    virtual ~CommandRunner() = default;
    // Throws SystemError when the program cannot be started at all.
    virtual ProcessResult run(const std::vector<std::string>& argv) = 0;
};

class SystemCommandRunner : public CommandRunner {
  public:
    ProcessResult run(const std::vector<std::string>& argv) override;
};

// Runs argv and throws Error("<argv[0]> failed (exit N): <last lines of output>") unless it
// exits 0. Returns the output.
std::string run_checked(CommandRunner& runner, const std::vector<std::string>& argv);

}  // namespace airstrap
