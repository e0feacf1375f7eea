#include "builder/staging.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>

#include "common/error.hpp"
#include "common/text.hpp"

namespace airstrap::builder {

namespace fs = std::filesystem;

namespace {

constexpr const char* device_nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};

// Everything the child needs, made before fork: after it, a child of a threaded process
// may only make system calls (no allocation).
struct ChildPlan {
    std::deque<std::string> strings;  // owns what the pointers below point at (never moved)
    const char* proc = nullptr;
    const char* dev = nullptr;
    const char* sys = nullptr;
    const char* run = nullptr;
    const char* root = nullptr;
    std::vector<std::pair<const char*, const char*>> devices;  // host node, tree node
    std::vector<std::pair<const char*, const char*>> links;    // target, tree path
    std::vector<const char*> dev_dirs;                         // tree paths
    std::vector<std::pair<const char*, const char*>> binds;    // host, tree
    std::vector<const char*> programs;                         // candidates for argv[0]
    std::vector<char*> argv, envp;
};

// A short message and the errno to the output, then exit 127 (only system calls).
[[noreturn]] void child_fail(int fd, const char* what) {
    int err = errno;
    char num[16];
    int n = 0;
    char digits[16];
    do {
        digits[n++] = static_cast<char>('0' + err % 10);
        err /= 10;
    } while (err && n < 15);
    for (int i = 0; i < n; ++i) num[i] = digits[n - 1 - i];
    const char* head = "airstrap staging: ";
    (void)!::write(fd, head, std::strlen(head));
    (void)!::write(fd, what, std::strlen(what));
    (void)!::write(fd, " failed, errno ", 15);
    (void)!::write(fd, num, static_cast<std::size_t>(n));
    (void)!::write(fd, "\n", 1);
    ::_exit(127);
}

// PID 1 of the new PID namespace: the tree's mounts, chroot, exec.
[[noreturn]] void exec_in_tree(const ChildPlan& p, int out) {
    if (::mount("proc", p.proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
        child_fail(out, "mount /proc");
    if (::mount("tmpfs", p.dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=1m") != 0)
        child_fail(out, "mount /dev");
    for (const auto& [host, node] : p.devices) {
        int fd = ::open(node, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0) child_fail(out, node);
        ::close(fd);
        if (::mount(host, node, nullptr, MS_BIND, nullptr) != 0) child_fail(out, node);
    }
    for (const char* d : p.dev_dirs) {
        if (::mkdir(d, 0755) != 0) child_fail(out, d);
    }
    for (const auto& [target, link] : p.links) {
        if (::symlink(target, link) != 0) child_fail(out, link);
    }
    if (::mount("/sys", p.sys, nullptr, MS_BIND | MS_REC, nullptr) != 0 ||
        ::mount(nullptr, p.sys, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0)
        child_fail(out, "bind /sys read-only");
    if (::mount("tmpfs", p.run, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0)
        child_fail(out, "mount /run");
    for (const auto& [host, inside] : p.binds) {
        if (::mount(host, inside, nullptr, MS_BIND | MS_REC, nullptr) != 0 ||
            ::mount(nullptr, inside, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0)
            child_fail(out, inside);
    }
    if (::chroot(p.root) != 0) child_fail(out, "chroot");
    if (::chdir("/") != 0) child_fail(out, "chdir /");
    int in = ::open("/dev/null", O_RDONLY);
    if (in < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0)
        child_fail(out, "standard input and output");
    for (const char* program : p.programs) ::execve(program, p.argv.data(), p.envp.data());
    child_fail(2, p.argv[0]);
}

}  // namespace

std::string staging_unavailable() {
    if (::geteuid() == 0) return "";
    return "an image's files are put together on this host by the image's own rpm, chrooted "
           "into a staging folder in private namespaces, which needs root (rpm gives files to "
           "their packages' users and groups): run 'airstrap build qcow2' as root";
}

StagingTree::StagingTree(fs::path root) : root_(std::move(root)) {
    fs::create_directories(root_);
    fs::permissions(root_, fs::perms(0755));
}

fs::path StagingTree::host_path(const std::string& inside) const {
    std::string_view rel = inside;
    while (rel.starts_with('/')) rel.remove_prefix(1);
    return root_ / rel;
}

ProcessResult StagingTree::run(const std::vector<std::string>& argv,
                               const std::vector<StagingBind>& binds) const {
    if (argv.empty()) throw Error("no command to run in the staging tree");
    for (const char* d : {"proc", "sys", "dev", "run", "tmp"}) fs::create_directories(root_ / d);
    ChildPlan p;
    auto keep = [&](std::string s) { return p.strings.emplace_back(std::move(s)).c_str(); };
    p.root = keep(root_.string());
    p.proc = keep((root_ / "proc").string());
    p.dev = keep((root_ / "dev").string());
    p.sys = keep((root_ / "sys").string());
    p.run = keep((root_ / "run").string());
    for (const char* node : device_nodes)
        p.devices.emplace_back(keep(std::string("/dev/") + node),
                               keep((root_ / "dev" / node).string()));
    for (const char* d : {"pts", "shm"}) p.dev_dirs.push_back(keep((root_ / "dev" / d).string()));
    for (const auto& [target, name] : {std::pair<const char*, const char*>{"/proc/self/fd", "fd"},
                                       {"/proc/self/fd/0", "stdin"},
                                       {"/proc/self/fd/1", "stdout"},
                                       {"/proc/self/fd/2", "stderr"}})
        p.links.emplace_back(keep(target), keep((root_ / "dev" / name).string()));
    for (const auto& b : binds) {
        fs::path inside = host_path(b.inside);
        fs::create_directories(inside);
        p.binds.emplace_back(keep(b.host.string()), keep(inside.string()));
    }
    if (argv[0].find('/') != std::string::npos) {
        p.programs.push_back(keep(argv[0]));
    } else {
        for (const char* dir : {"/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"})
            p.programs.push_back(keep(dir + argv[0]));
    }
    for (const auto& a : argv) p.argv.push_back(const_cast<char*>(keep(a)));
    p.argv.push_back(nullptr);
    for (const char* e :
         {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8", "SYSTEMD_OFFLINE=1"})
        p.envp.push_back(const_cast<char*>(keep(e)));
    p.envp.push_back(nullptr);

    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw SystemError("pipe", errno);
    pid_t pid = ::fork();
    if (pid < 0) {
        int err = errno;
        ::close(fds[0]);
        ::close(fds[1]);
        throw SystemError("fork", err);
    }
    if (pid == 0) {
        int out = fds[1];
        if (::unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) != 0)
            child_fail(out, "unshare (new mount, PID, network, IPC and UTS namespaces)");
        // Nothing mounted from here on reaches the host's mount table.
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
            child_fail(out, "make / private");
        pid_t init = ::fork();
        if (init < 0) child_fail(out, "fork");
        if (init == 0) exec_in_tree(p, out);
        int status = 0;
        while (::waitpid(init, &status, 0) < 0) {
            if (errno != EINTR) child_fail(out, "waitpid");
        }
        ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
    ::close(fds[1]);
    ProcessResult result;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        result.output.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) throw SystemError("waitpid", errno);
    }
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

std::string StagingTree::command(const std::vector<std::string>& argv,
                                 const std::vector<StagingBind>& binds) const {
    ProcessResult r = run(argv, binds);
    if (r.exit_code != 0) {
        std::string out = text::trim(r.output);
        if (out.size() > 2000) out = "…" + out.substr(out.size() - 2000);
        throw Error("'" + text::join(argv, " ") + "' in the staging tree failed (exit " +
                    std::to_string(r.exit_code) + ")" + (out.empty() ? "" : ": " + out));
    }
    return r.output;
}

}  // namespace airstrap::builder
