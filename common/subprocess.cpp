#include "common/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>

#include "common/error.hpp"

extern char** environ;

namespace airstrap {

namespace {
std::atomic<int> child_umask{-1};
std::mutex child_umask_mutex;
}  // namespace

void set_child_umask(unsigned mask) {
    child_umask = static_cast<int>(mask & 0777);
}

ProcessResult CommandRunner::run(const std::vector<std::string>& argv, const RunOptions& options) {
    if (!options.input.empty() || options.input_is_terminal || !options.environment.empty())
        throw Error("this command runner cannot give " + argv.at(0) + " input or environment");
    ProcessResult r = run(argv);
    if (options.on_output) options.on_output(r.output);
    return r;
}

namespace {

class Fd {
  public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }
    int get() const { return fd_; }
    void reset(int fd = -1) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

  private:
    int fd_ = -1;
};

// A prompt is waiting for a line when the output since the last line we typed ends in ':'
// (getpass's "Password:", "Repeat User Password:").
bool prompt_waiting(const std::string& since) {
    std::size_t end = since.find_last_not_of(" \t");
    return end != std::string::npos && since[end] == ':';
}

}  // namespace

ProcessResult SystemCommandRunner::run(const std::vector<std::string>& argv,
                                       const RunOptions& options) {
    if (argv.empty()) throw Error("run: empty command");
    // Output pipe (and, for a terminal, the pty's master side, which carries both ways).
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw SystemError("pipe", errno);
    Fd out_read(out[0]), out_write(out[1]);
    Fd in_write, in_read, master;
    std::string slave_name;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    if (options.input_is_terminal) {
        int m = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (m < 0) throw SystemError("posix_openpt", errno);
        master.reset(m);
        if (::grantpt(m) != 0 || ::unlockpt(m) != 0) throw SystemError("unlockpt", errno);
        char name[128];
        if (::ptsname_r(m, name, sizeof name) != 0) throw SystemError("ptsname", errno);
        slave_name = name;
        // A new session, so that opening the pty makes it the controlling terminal.
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
        posix_spawn_file_actions_addopen(&actions, 0, slave_name.c_str(), O_RDWR, 0);
    } else if (!options.input.empty()) {
        int in[2];
        if (::pipe2(in, O_CLOEXEC) != 0) throw SystemError("pipe", errno);
        in_read.reset(in[0]);
        in_write.reset(in[1]);
        posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    } else {
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    }
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, out[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) {
        std::string_view entry(*e);
        bool replaced = false;
        for (const auto& [k, v] : options.environment) {
            replaced = replaced ||
                       (entry.size() > k.size() && entry.starts_with(k) && entry[k.size()] == '=');
        }
        if (!replaced) env_strings.emplace_back(entry);
    }
    for (const auto& [k, v] : options.environment) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_t pid = 0;
    int rc = 0;
    {
        // posix_spawn has no umask attribute: set ours around the spawn. Our own files are
        // written with explicit modes (file_io.hpp), so the short window cannot loosen them.
        std::lock_guard<std::mutex> lock(child_umask_mutex);
        int mask = child_umask.load();
        mode_t old = mask >= 0 ? ::umask(static_cast<mode_t>(mask)) : 0;
        rc = ::posix_spawnp(&pid, argv[0].c_str(), &actions, &attr, args.data(), envp.data());
        if (mask >= 0) ::umask(old);
    }
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    out_write.reset();
    in_read.reset();
    if (rc != 0) throw SystemError("cannot run " + argv[0], rc);

    ProcessResult result;
    auto deliver = [&](const char* data, std::size_t n) {
        result.output.append(data, n);
        if (options.on_output) options.on_output(std::string_view(data, n));
    };
    if (in_write.get() >= 0) {
        // Small inputs (a password, a config) fit the pipe; SIGPIPE must not kill us if the
        // program exits without reading.
        struct sigaction ignore {
        }, old{};
        ignore.sa_handler = SIG_IGN;
        ::sigaction(SIGPIPE, &ignore, &old);
        std::size_t done = 0;
        while (done < options.input.size()) {
            ssize_t n =
                ::write(in_write.get(), options.input.data() + done, options.input.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            done += static_cast<std::size_t>(n);
        }
        ::sigaction(SIGPIPE, &old, nullptr);
        in_write.reset();
    }
    // Lines to type at the terminal's prompts; what the program writes to the terminal itself
    // (its prompts) is kept apart from its output.
    std::vector<std::string> lines;
    if (master.get() >= 0) {
        std::size_t start = 0;
        while (start < options.input.size()) {
            std::size_t nl = options.input.find('\n', start);
            if (nl == std::string::npos) nl = options.input.size();
            lines.push_back(options.input.substr(start, nl - start) + "\n");
            start = nl + 1;
        }
    }
    std::size_t typed = 0;
    std::string since_typed;
    char buf[8192];
    bool out_open = true, master_open = master.get() >= 0;
    while (out_open || master_open) {
        pollfd fds[2] = {{out_read.get(), POLLIN, 0}, {master.get(), POLLIN, 0}};
        if (!out_open) fds[0].fd = -1;
        if (!master_open) fds[1].fd = -1;
        // The pty's master never reports end of file while we hold it: once the output pipe
        // is closed (the program exited), stop listening to the terminal.
        if (!out_open) break;
        int ready = ::poll(fds, 2, -1);
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) throw SystemError("poll", errno);
        if (fds[0].revents) {
            ssize_t n = ::read(out_read.get(), buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                out_open = false;
            } else {
                deliver(buf, static_cast<std::size_t>(n));
            }
        }
        if (master_open && fds[1].revents) {
            ssize_t n = ::read(master.get(), buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                master_open = false;
            } else {
                since_typed.append(buf, static_cast<std::size_t>(n));
                if (typed < lines.size() && prompt_waiting(since_typed)) {
                    const std::string& line = lines[typed++];
                    if (::write(master.get(), line.data(), line.size()) < 0) master_open = false;
                    since_typed.clear();
                }
            }
        }
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) throw SystemError("waitpid " + argv[0], errno);
    }
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

ProcessResult SystemCommandRunner::run(const std::vector<std::string>& argv) {
    return run(argv, RunOptions{});
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
