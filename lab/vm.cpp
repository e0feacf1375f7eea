#include "lab/vm.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <thread>

#include "common/error.hpp"

namespace airstrap::lab {

namespace {

// QEMU's option values separate with ',': a literal comma is written twice.
std::string option_value(const std::string& s) {
    std::string out;
    for (char c : s) {
        out += c;
        if (c == ',') out += ',';
    }
    return out;
}

int status_code(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}

}  // namespace

std::optional<int> nic_slot(const std::string& device) {
    if (device.size() < 4 || device.size() > 5 || !device.starts_with("ens")) return {};
    int n = 0;
    for (char c : device.substr(3)) {
        if (c < '0' || c > '9') return {};
        n = n * 10 + (c - '0');
    }
    if (device[3] == '0' || n < 3 || n > 31) return {};
    return n;
}

bool valid_cpu_model(const std::string& cpu) {
    if (cpu.empty() || cpu.size() > 512 || cpu[0] == '-' || cpu[0] == ',') return false;
    for (char c : cpu) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-' || c == '+' || c == '=' || c == ',';
        if (!ok) return false;
    }
    return true;
}

std::vector<std::string> qemu_argv(const VmSpec& s) {
    std::vector<std::string> a{s.qemu,
                               "-name",
                               option_value(s.node),
                               "-machine",
                               std::string("pc,accel=") + (s.accel == Accel::kvm ? "kvm" : "tcg"),
                               "-m",
                               std::to_string(s.memory_mib),
                               "-smp",
                               std::to_string(s.cpus),
                               "-nodefaults",
                               "-no-user-config",
                               "-display",
                               "none",
                               "-serial",
                               "file:" + s.serial_log.string()};
    if (!s.cpu.empty()) {
        a.push_back("-cpu");
        a.push_back(s.cpu);
    } else if (s.accel == Accel::kvm) {
        a.push_back("-cpu");
        a.push_back("host");
    }
    if (s.firmware == Firmware::uefi) {
        a.push_back("-drive");
        a.push_back("if=pflash,format=raw,unit=0,readonly=on,file=" +
                    option_value(s.ovmf_code.string()));
        a.push_back("-drive");
        a.push_back("if=pflash,format=raw,unit=1,file=" + option_value(s.ovmf_vars.string()));
    }
    a.push_back("-drive");
    a.push_back("file=" + option_value(s.disk.string()) + ",if=virtio,format=qcow2" +
                (s.snapshot ? ",snapshot=on" : ""));
    for (std::size_t i = 0; i < s.nics.size(); ++i) {
        std::string id = "nic" + std::to_string(i);
        a.push_back("-netdev");
        a.push_back("tap,id=" + id + ",ifname=" + option_value(s.nics[i].tap) +
                    ",script=no,downscript=no");
        a.push_back("-device");
        std::string device = "virtio-net-pci,netdev=" + id + ",mac=" + s.nics[i].mac;
        if (s.nics[i].slot > 0) {
            char addr[16];
            std::snprintf(addr, sizeof addr, "0x%x", s.nics[i].slot);
            device += ",addr=" + std::string(addr);
        }
        a.push_back(device);
    }
    return a;
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::string& netns,
                           const std::filesystem::path& output) {
    if (argv.empty()) throw Error("ChildProcess: no command");
    int ns_fd = -1;
    if (!netns.empty()) {
        std::string path = "/run/netns/" + netns;
        ns_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (ns_fd < 0) throw SystemError("cannot open network namespace " + path, errno);
    }
    int out_fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (out_fd < 0) {
        int e = errno;
        if (ns_fd >= 0) ::close(ns_fd);
        throw SystemError("cannot open " + output.string(), e);
    }
    // The child reports a failed setns or exec through this pipe (closed by a good exec).
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0) {
        int e = errno;
        ::close(out_fd);
        if (ns_fd >= 0) ::close(ns_fd);
        throw SystemError("pipe", e);
    }
    std::vector<char*> args;
    for (const auto& s : argv) args.push_back(const_cast<char*>(s.c_str()));
    args.push_back(nullptr);

    pid_t pid = ::fork();
    if (pid == 0) {
        // Only async-signal-safe calls from here to exec.
        struct {
            int stage;
            int err;
        } fail{0, 0};
        ::setpgid(0, 0);
        ::umask(077);
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        ::sigaction(SIGINT, &dfl, nullptr);
        ::sigaction(SIGTERM, &dfl, nullptr);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        if (ns_fd >= 0 && ::setns(ns_fd, CLONE_NEWNET) != 0) {
            fail = {1, errno};
        } else {
            int in = ::open("/dev/null", O_RDONLY);
            if (in >= 0) ::dup2(in, 0);
            ::dup2(out_fd, 1);
            ::dup2(out_fd, 2);
            ::execvp(args[0], args.data());
            fail = {2, errno};
        }
        (void)!::write(report[1], &fail, sizeof fail);
        ::_exit(127);
    }
    int fork_errno = errno;
    ::close(report[1]);
    ::close(out_fd);
    if (ns_fd >= 0) ::close(ns_fd);
    if (pid < 0) {
        ::close(report[0]);
        throw SystemError("cannot start " + argv[0] + " (fork)", fork_errno);
    }
    struct {
        int stage;
        int err;
    } fail{0, 0};
    ssize_t n;
    do {
        n = ::read(report[0], &fail, sizeof fail);
    } while (n < 0 && errno == EINTR);
    ::close(report[0]);
    if (n == static_cast<ssize_t>(sizeof fail)) {
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (fail.stage == 1) throw SystemError("cannot enter network namespace " + netns, fail.err);
        throw SystemError("cannot run " + argv[0], fail.err);
    }
    pid_ = pid;
}

ChildProcess::~ChildProcess() {
    stop();
}

std::optional<int> ChildProcess::poll() {
    if (status_ || pid_ < 0) return status_;
    int status = 0;
    pid_t r;
    do {
        r = ::waitpid(pid_, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == pid_) status_ = status_code(status);
    if (r < 0) status_ = 1;  // not our child any more (ECHILD): nothing to wait for
    return status_;
}

int ChildProcess::stop(std::chrono::milliseconds grace) {
    if (pid_ < 0) return 0;
    if (poll()) return *status_;
    ::kill(pid_, SIGTERM);
    auto until = std::chrono::steady_clock::now() + grace;
    while (!poll() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!status_) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        status_ = status_code(status);
    }
    return *status_;
}

}  // namespace airstrap::lab
