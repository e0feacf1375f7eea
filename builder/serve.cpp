// `airstrap serve`: dnsmasq, nginx and the provisioning service (provision/) as children,
// supervised. This process parses nothing from the network: it starts them, forwards their
// output and signals (and dnsmasq's lines to the service), and stops when one ends.
//
// Users, when started as root: dnsmasq and nginx's workers run as --server-user (nobody),
// which reads DIR/http and DIR/tftp only; the service runs as the tree's owner, which alone
// reads DIR/private (kickstarts, report keys) and writes DIR/state and the per-MAC configs.
// Its unix socket sits in a folder of the owner's with the server user's group (02750):
// only nginx's workers (and root and the owner) can connect and say who the client is.
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <deque>
#include <functional>
#include <optional>

#include "builder/pxe.hpp"
#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/text.hpp"
#include "provision/service.hpp"
#include "provision/tree.hpp"

namespace airstrap::builder {

namespace fs = std::filesystem;

namespace {

struct Child {
    std::string name;
    pid_t pid = -1;
    int out = -1;  // read end of its stdout+stderr
    std::string partial;
    std::deque<std::string> last;
    bool ended = false;
    int status = 0;
};

constexpr std::size_t kept_lines = 12;

// Runs body() in a child with stdout and stderr on a pipe and SIGTERM when this process dies
// (so that a killed `airstrap serve` leaves no server behind); body's result is its status.
Child start_with(const std::string& name, const std::function<int()>& body) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw SystemError("pipe", errno);
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) throw SystemError("fork", errno);
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != parent) ::_exit(127);
        ::dup2(fds[1], 1);
        ::dup2(fds[1], 2);
        ::_exit(body());
    }
    ::close(fds[1]);
    Child c;
    c.name = name;
    c.pid = pid;
    c.out = fds[0];
    return c;
}

// Starts argv with stdin /dev/null and the signal mask cleared.
Child start(const std::string& name, const std::vector<std::string>& argv) {
    return start_with(name, [&] {
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        int devnull = ::open("/dev/null", O_RDONLY);
        if (devnull >= 0) ::dup2(devnull, 0);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        std::string msg = "cannot run " + argv[0] + ": " + std::strerror(errno) + "\n";
        (void)!::write(2, msg.data(), msg.size());
        return 127;
    });
}

std::string describe_status(int status) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return std::string("was killed by ") + ::strsignal(WTERMSIG(status));
    return "ended";
}

struct Account {
    std::string user, group;
    uid_t uid = 0;
    gid_t gid = 0;
};

// The tree's owner, whom the service runs as. A tree owned by root is refused when serving as
// root: its service would run as root.
Account tree_owner(const fs::path& dir) {
    fs::path path = dir / provision::private_dir;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw SystemError("cannot stat " + path.string(), errno);
    if (st.st_uid == 0 || st.st_gid == 0) {
        throw InputError(
            path.string() + " is owned by root (uid " + std::to_string(st.st_uid) + ", gid " +
            std::to_string(st.st_gid) +
            "): the provisioning service runs as the tree's owner and will not run as root. "
            "Give the tree to an unprivileged user of its own, e.g. 'useradd --system "
            "--user-group --no-create-home airstrap-pxe' once, then 'chown -R "
            "airstrap-pxe:airstrap-pxe " +
            dir.string() + "', and run 'airstrap serve' again");
    }
    struct passwd* pw = ::getpwuid(st.st_uid);
    struct group* gr = ::getgrgid(st.st_gid);
    if (!pw || !gr) {
        throw InputError(path.string() + " is owned by uid " + std::to_string(st.st_uid) +
                         " without a user name: chown the tree to the user that serves it");
    }
    for (const char* sub : {"tftp", "state"}) {
        struct stat other {};
        if (::stat((dir / sub).c_str(), &other) == 0 && other.st_uid != st.st_uid) {
            throw InputError((dir / sub).string() + " is not owned by " + pw->pw_name + " like " +
                             path.string() +
                             ": the service changes the per-MAC "
                             "configs and the state; 'chown -R " +
                             pw->pw_name + ": " + dir.string() + "'");
        }
    }
    return {pw->pw_name, gr->gr_name, st.st_uid, st.st_gid};
}

// The user dnsmasq and nginx's workers run as: not root, not the tree's owner (they must not
// read DIR/private).
Account server_account(const std::string& user, const Account& owner) {
    struct passwd* pw = ::getpwnam(user.c_str());
    if (!pw) throw InputError("--server-user " + user + ": no such user");
    struct group* gr = ::getgrgid(pw->pw_gid);
    if (!gr) throw InputError("--server-user " + user + ": its group has no name");
    if (pw->pw_uid == 0) throw InputError("--server-user " + user + " is root");
    if (pw->pw_uid == owner.uid || pw->pw_gid == owner.gid) {
        throw InputError("--server-user " + user +
                         " is (or shares a group with) the tree's owner " + owner.user +
                         ": nginx and dnsmasq would read the kickstarts; give the "
                         "tree to a user of its own (chown -R) or pick another --server-user");
    }
    return {pw->pw_name, gr->gr_name, pw->pw_uid, pw->pw_gid};
}

// The service's process: as the tree's owner when started as root, no way back to root.
int service_main(const fs::path& dir, const fs::path& socket, int events_fd,
                 const std::optional<Account>& owner) {
    try {
        if (owner) {
            if (::setgroups(0, nullptr) != 0 || ::setgid(owner->gid) != 0 ||
                ::setuid(owner->uid) != 0) {
                throw SystemError("cannot become " + owner->user, errno);
            }
        }
        ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        ::umask(007);
        return provision::run_service(dir, socket, events_fd, [](const std::string& line) {
            std::string l = line + "\n";
            (void)!::write(1, l.data(), l.size());
        });
    } catch (const std::exception& e) {
        std::string l = std::string("error: ") + e.what() + "\n";
        (void)!::write(2, l.data(), l.size());
        return 1;
    }
}

// Replaces `@NAME@` on the lines marked `# airstrap-MARK`.
std::string replace_marked(const std::string& conf, const std::string& mark,
                           const std::string& placeholder, const std::string& value,
                           const fs::path& where) {
    std::vector<std::string> lines = text::split(conf, '\n');
    bool done = false;
    for (auto& line : lines) {
        if (line.find("# " + mark) == std::string::npos) continue;
        std::size_t at = line.find(placeholder);
        if (at == std::string::npos) continue;
        line.replace(at, placeholder.size(), value);
        done = true;
    }
    if (!done) {
        throw InputError(where.string() + ": no line marked '# " + mark + "' with " + placeholder +
                         ": rebuild the tree with this airstrap's 'build pxe'");
    }
    return text::join(lines, "\n");
}

// nginx.conf with the listen address replaced (the port stays).
std::string relisten(const std::string& conf, const std::string& address, const fs::path& where) {
    std::vector<std::string> lines = text::split(conf, '\n');
    bool done = false;
    for (auto& line : lines) {
        if (line.find("# airstrap-listen") == std::string::npos) continue;
        std::size_t at = line.find("listen ");
        std::size_t colon = line.find(':', at);
        if (at == std::string::npos || colon == std::string::npos) break;
        line = line.substr(0, at + 7) + address + line.substr(colon);
        done = true;
    }
    if (!done) throw InputError(where.string() + ": no 'listen' line marked '# airstrap-listen'");
    return text::join(lines, "\n");
}

}  // namespace

int serve_pxe(const ServeOptions& o) {
    auto log = [&](const std::string& line) {
        if (o.log) o.log(line);
    };
    fs::path dir = fs::absolute(o.dir).lexically_normal();
    fs::path dnsmasq_conf = dir / "dnsmasq.conf", nginx_conf = dir / "nginx.conf";
    for (const fs::path& p : {nginx_conf, dir / "http"}) {
        if (!fs::exists(p)) {
            throw InputError(dir.string() + " is not a PXE tree (no " + p.filename().string() +
                             "): make one with 'airstrap build pxe SITE -o " + dir.string() + "'");
        }
    }
    if (!o.http_only && !fs::exists(dnsmasq_conf)) {
        throw InputError(dir.string() + " is not a PXE tree (no dnsmasq.conf)");
    }
    if (!o.http_listen.empty() && !site::Ipv4::parse(o.http_listen)) {
        throw InputError("--listen '" + o.http_listen + "' is not an IPv4 address");
    }

    provision::read_service_config(dir);  // refuses a tree of an older airstrap early
    std::optional<Account> owner, servers;
    if (::geteuid() == 0) {
        owner = tree_owner(dir);
        servers = server_account(o.server_user, *owner);
    }

    // nginx's pid, temp folders, the dnsmasq leases and the service's socket: here, not /var.
    TempDir run(fs::temp_directory_path(), "airstrap-serve");
    ::chmod(run.path().c_str(), 0711);
    fs::path socket_dir = run.path() / "service";
    fs::create_directory(socket_dir);
    if (owner) {
        // The owner makes its socket here; the server user's group may reach it (setgid: the
        // socket gets that group), nobody else may.
        if (::chown(socket_dir.c_str(), owner->uid, servers->gid) != 0 ||
            ::chmod(socket_dir.c_str(), 02750) != 0) {
            throw SystemError("cannot prepare " + socket_dir.string(), errno);
        }
    } else {
        ::chmod(socket_dir.c_str(), 0700);
    }
    fs::path socket = socket_dir / "http.sock";
    std::string conf_text =
        replace_marked(read_file(nginx_conf, 1 << 20), "airstrap-service",
                       "@AIRSTRAP_SERVICE_SOCKET@", socket.string(), nginx_conf);
    if (!o.http_listen.empty()) conf_text = relisten(conf_text, o.http_listen, nginx_conf);
    fs::path conf = run.path() / "nginx.conf";
    write_file_atomic(conf, conf_text, 0644);
    std::string globals = "daemon off;";
    std::vector<std::string> dnsmasq = {
        "dnsmasq",
        "--keep-in-foreground",
        "--conf-file=" + dnsmasq_conf.string(),
        "--log-facility=-",
        "--pid-file=" + (run.path() / "dnsmasq.pid").string(),
        "--dhcp-leasefile=" + (run.path() / "dnsmasq.leases").string()};
    if (!o.interface.empty()) dnsmasq.push_back("--interface=" + o.interface);
    if (servers) {
        globals += " user " + servers->user + " " + servers->group + ";";
        dnsmasq.push_back("--user=" + servers->user);
        dnsmasq.push_back("--group=" + servers->group);
    }
    std::vector<std::string> nginx = {
        "nginx", "-e",          "stderr", "-p",   run.path().string() + "/",
        "-c",    conf.string(), "-g",     globals};

    // Signals arrive through a descriptor; the children start with a clear mask.
    sigset_t mask, old;
    sigemptyset(&mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGCHLD}) sigaddset(&mask, sig);
    // SIGPIPE is blocked, not read: a line for a service that has just ended must fail with
    // EPIPE, not kill this process; the pending signal is discarded before the mask returns.
    sigset_t blocked = mask;
    sigaddset(&blocked, SIGPIPE);
    ::sigprocmask(SIG_BLOCK, &blocked, &old);
    struct Restore {
        sigset_t old;
        int sfd;
        ~Restore() {
            if (sfd >= 0) ::close(sfd);
            sigset_t pipe;
            sigemptyset(&pipe);
            sigaddset(&pipe, SIGPIPE);
            const timespec now{0, 0};
            while (::sigtimedwait(&pipe, nullptr, &now) == SIGPIPE) {
            }
            ::sigprocmask(SIG_SETMASK, &old, nullptr);
        }
    } restore{old, ::signalfd(-1, &mask, SFD_CLOEXEC)};
    if (restore.sfd < 0) throw SystemError("signalfd", errno);

    // The service first: forked from this process, it must not inherit the others' pipes.
    int events[2];
    if (::pipe2(events, O_CLOEXEC) != 0) throw SystemError("pipe", errno);
    std::vector<Child> children;
    children.push_back(start_with("provision", [&] {
        ::close(events[1]);
        return service_main(dir, socket, events[0], owner);
    }));
    ::close(events[0]);
    ::fcntl(events[1], F_SETFL, O_NONBLOCK);
    struct CloseEvents {
        int fd;
        ~CloseEvents() { ::close(fd); }
    } close_events{events[1]};
    if (!o.http_only) children.push_back(start("dnsmasq", dnsmasq));
    children.push_back(start("nginx", nginx));
    std::string pids;
    for (const auto& c : children) pids += " " + c.name + " (pid " + std::to_string(c.pid) + ")";
    log("serving " + dir.string() + ":" + pids +
        (o.http_listen.empty() ? "" : ", HTTP on " + o.http_listen));

    auto forward_output = [&](Child& c, bool flush) {
        char buf[4096];
        while (c.out >= 0) {
            ssize_t n = ::read(c.out, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EAGAIN) break;
            if (n <= 0) {
                ::close(c.out);
                c.out = -1;
                flush = true;
                break;
            }
            c.partial.append(buf, static_cast<std::size_t>(n));
            if (!flush) break;
        }
        std::size_t nl;
        while ((nl = c.partial.find('\n')) != std::string::npos || (flush && !c.partial.empty())) {
            std::string line = c.partial.substr(0, nl);
            c.partial.erase(0, nl == std::string::npos ? std::string::npos : nl + 1);
            log(c.name + ": " + line);
            if (c.name == "dnsmasq" && !children.front().ended) {
                // The service follows the nodes through dnsmasq's lines; when it is behind, a
                // line is dropped rather than this loop blocked.
                std::string l = line + "\n";
                (void)!::write(close_events.fd, l.data(), l.size());
            }
            c.last.push_back(line);
            if (c.last.size() > kept_lines) c.last.pop_front();
        }
    };

    bool stopping = false;
    int result = 0;
    auto stop_deadline = std::chrono::steady_clock::time_point::max();
    auto stop_all = [&] {
        for (auto& c : children) {
            if (!c.ended) ::kill(c.pid, SIGTERM);
        }
        stopping = true;
        stop_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    };
    while (true) {
        bool all_ended = std::all_of(children.begin(), children.end(),
                                     [](const Child& c) { return c.ended && c.out < 0; });
        if (all_ended) break;
        std::vector<pollfd> fds = {{restore.sfd, POLLIN, 0}};
        for (auto& c : children) fds.push_back({c.out, POLLIN, 0});
        int n = ::poll(fds.data(), fds.size(), 500);
        if (n < 0 && errno != EINTR) throw SystemError("poll", errno);
        for (std::size_t i = 0; i < children.size(); ++i) {
            if (fds[i + 1].revents) forward_output(children[i], false);
        }
        if (fds[0].revents & POLLIN) {
            signalfd_siginfo si{};
            if (::read(restore.sfd, &si, sizeof si) == sizeof si && si.ssi_signo != SIGCHLD &&
                !stopping) {
                log(std::string("stopping (") + ::strsignal(static_cast<int>(si.ssi_signo)) + ")");
                stop_all();
            }
        }
        for (auto& c : children) {
            if (c.ended) continue;
            int status = 0;
            if (::waitpid(c.pid, &status, WNOHANG) != c.pid) continue;
            c.ended = true;
            c.status = status;
            if (c.out >= 0) {
                ::fcntl(c.out, F_SETFL, O_NONBLOCK);
                forward_output(c, true);
            }
            if (!stopping) {
                std::string lines;
                for (const auto& l : c.last) lines += "\n  " + l;
                log(c.name + " " + describe_status(status) +
                    (lines.empty() ? std::string() : "; its last lines:" + lines));
                result = 1;
                stop_all();
            }
        }
        if (stopping && std::chrono::steady_clock::now() > stop_deadline) {
            for (auto& c : children) {
                if (!c.ended) ::kill(c.pid, SIGKILL);
            }
            stop_deadline = std::chrono::steady_clock::time_point::max();
        }
        // A child that ended but whose pipe a grandchild still holds: stop waiting for it.
        for (auto& c : children) {
            if (c.ended && c.out >= 0 && stopping) {
                ::fcntl(c.out, F_SETFL, O_NONBLOCK);
                forward_output(c, true);
                if (c.out >= 0) {
                    ::close(c.out);
                    c.out = -1;
                }
            }
        }
    }
    return result;
}

}  // namespace airstrap::builder
