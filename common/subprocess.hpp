// Running other programs (createrepo_c, rpm, …) without a shell: argv in, exit status and
// combined output back. Behind an interface, so that code which runs commands can be tested
// with a recording fake where the real command cannot run.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace airstrap {

struct ProcessResult {
    int exit_code = 0;   // 128 + signal number when the process was killed
    std::string output;  // stdout and stderr, interleaved as written
};

// For the few commands that need more than argv in, output out.
struct RunOptions {
    // Written to the command's standard input, which is then closed (default: /dev/null).
    std::string input;
    // Standard input is a terminal (a pty) that `input` is typed into: for programs that read
    // a password only from a terminal (`openstack user create --password-prompt`), so that
    // the password never appears in an argv.
    bool input_is_terminal = false;
    // Set in the command's environment (on top of ours): credentials go here, never in argv.
    std::vector<std::pair<std::string, std::string>> environment;
    // Called with the output as it arrives (long commands: packstack streams into a log).
    std::function<void(std::string_view)> on_output;
};

class CommandRunner {
  public:
    virtual ~CommandRunner() = default;
    // Throws SystemError when the program cannot be started at all.
    virtual ProcessResult run(const std::vector<std::string>& argv) = 0;
    // The default serves runners that record rather than run: no input, output in one piece.
    virtual ProcessResult run(const std::vector<std::string>& argv, const RunOptions& options);
};

class SystemCommandRunner : public CommandRunner {
  public:
    ProcessResult run(const std::vector<std::string>& argv) override;
    ProcessResult run(const std::vector<std::string>& argv, const RunOptions& options) override;
};

// The umask the commands run with from now on (process-wide). airstrap-firstboot runs under
// UMask=0077 for its own files, but packstack, puppet and yum must create what they create with
// their usual modes (a service config that only root can read breaks that service): it sets
// 022. Without a call, commands inherit our umask.
void set_child_umask(unsigned mask);

// Runs argv and throws Error("<argv[0]> failed (exit N): <last lines of output>") unless it
// exits 0. Returns the output.
std::string run_checked(CommandRunner& runner, const std::vector<std::string>& argv);

}  // namespace airstrap
