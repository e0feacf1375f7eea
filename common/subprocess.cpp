#include "common/subprocess.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "common/error.hpp"

extern char** environ;

namespace airstrap {

ProcessResult SystemCommandRunner::run(const std::vector<std::string>& argv) {
    if (argv.empty()) throw Error("run: empty command");
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) throw SystemError("pipe", errno);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, pipefd[1], 1);
    posix_spawn_file_actions_adddup2(&actions, pipefd[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    int rc = ::posix_spawnp(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipefd[1]);
    if (rc != 0) {
        ::close(pipefd[0]);
        throw SystemError("cannot run " + argv[0], rc);
    }
    ProcessResult result;
    char buf[8192];
    while (true) {
        ssize_t n = ::read(pipefd[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        result.output.append(buf, static_cast<std::size_t>(n));
    }
    ::close(pipefd[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) throw SystemError("waitpid " + argv[0], errno);
    }
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

std::string run_checked(CommandRunner& runner, const std::vector<std::string>& argv) {
    ProcessResult r = runner.run(argv);
    if (r.exit_code != 0) {
        // The last few lines say what went wrong; the rest is progress chatter.
        std::string tail = r.output;
        std::size_t cut = tail.size();
        for (int lines = 0; lines < 6 && cut != std::string::npos && cut > 0; ++lines) {
            cut = tail.rfind('\n', cut - 1);
        }
        if (cut != std::string::npos && cut > 0) tail = tail.substr(cut + 1);
        while (!tail.empty() && tail.back() == '\n') tail.pop_back();
        throw Error(argv[0] + " failed (exit " + std::to_string(r.exit_code) + "): " + tail);
    }
    return r.output;
}

}  // namespace airstrap
