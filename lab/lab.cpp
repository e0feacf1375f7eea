#include "lab/lab.hpp"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <thread>

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/text.hpp"
#include "lab/console.hpp"
#include "lab/netns.hpp"

namespace airstrap::lab {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// ------------------------------------------------------------------ ScratchDir, InterruptGuard

ScratchDir::ScratchDir(const fs::path& parent, const std::string& prefix, bool keep) : keep_(keep) {
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec) throw SystemError("cannot create " + parent.string(), ec.value());
    std::string templ = (parent / (prefix + "XXXXXX")).string();
    if (!::mkdtemp(templ.data()))
        throw SystemError("cannot create a folder in " + parent.string(), errno);
    path_ = fs::absolute(templ);
}

ScratchDir::~ScratchDir() {
    if (keep_) {
        std::cerr << "airstrap: kept (--keep): " << path_.string()
                  << " (overlays and built images, secret: remove it when done)\n";
        return;
    }
    std::error_code ec;
    fs::remove_all(path_, ec);
    if (ec) {
        std::cerr << "airstrap: warning: could not remove " << path_.string() << ": "
                  << ec.message() << "\n";
    }
}

void make_logs_folder(const fs::path& logs) {
    std::error_code ec;
    if (fs::is_directory(logs, ec)) return;
    if (!logs.parent_path().empty()) fs::create_directories(logs.parent_path(), ec);
    if (::mkdir(logs.c_str(), 0700) != 0 && errno != EEXIST) {
        throw SystemError("cannot create " + logs.string(), errno);
    }
    if (!fs::is_directory(logs, ec)) throw Error(logs.string() + " is not a folder");
}

namespace {
volatile std::sig_atomic_t interrupted = 0;
struct sigaction old_int {
}, old_term{};
extern "C" void on_interrupt(int signo) {
    interrupted = signo;
}
}  // namespace

InterruptGuard::InterruptGuard() {
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: a sleep or poll returns early
    ::sigaction(SIGINT, &sa, &old_int);
    ::sigaction(SIGTERM, &sa, &old_term);
}

InterruptGuard::~InterruptGuard() {
    ::sigaction(SIGINT, &old_int, nullptr);
    ::sigaction(SIGTERM, &old_term, nullptr);
}

int InterruptGuard::signal() {
    return interrupted;
}

namespace {

// ------------------------------------------------------------------ the live status

// On a terminal: a block of lines (a header and one per node) redrawn in place, log lines
// printed above it. Otherwise: only the log lines.
class StatusBoard {
  public:
    StatusBoard(std::ostream& out, bool tty) : out_(out), tty_(tty) {}
    ~StatusBoard() { out_.flush(); }

    void log(const std::string& line) {
        if (!tty_) {
            out_ << line << "\n" << std::flush;
            return;
        }
        erase();
        out_ << line << "\n";
        redraw();
    }
    void draw(std::vector<std::string> lines) {
        lines_ = std::move(lines);
        if (!tty_) return;
        erase();
        redraw();
    }
    // The block stays on the terminal as it last was.
    void close() { drawn_ = 0; }

  private:
    void erase() {
        if (drawn_ > 0) out_ << "\x1b[" << drawn_ << "F\x1b[J";
        drawn_ = 0;
    }
    void redraw() {
        std::size_t width = 120;
        winsize ws{};
        if (::ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10) width = ws.ws_col - 1;
        for (const auto& l : lines_) {
            out_ << (l.size() > width ? l.substr(0, width) : l) << "\n";
        }
        drawn_ = lines_.size();
        out_ << std::flush;
    }
    std::ostream& out_;
    bool tty_;
    std::vector<std::string> lines_;
    std::size_t drawn_ = 0;
};

std::string duration(Clock::duration d) {
    auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
    if (s < 60) return std::to_string(s) + "s";
    std::string sec = std::to_string(s % 60);
    if (sec.size() < 2) sec = "0" + sec;
    return std::to_string(s / 60) + "m" + sec + "s";
}

// The last non-blank line of a (small) log file, for saying why QEMU ended.
std::string last_line_of(const fs::path& file) {
    std::string text;
    try {
        text = read_file(file, 1 << 20);
    } catch (const std::exception&) {
        return "";
    }
    auto lines = text::split(text, '\n');
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
        std::string t = text::trim(*it);
        if (!t.empty()) return t;
    }
    return "";
}

// An empty file of ours, mode 0600 (truncated when it was there).
void fresh_file(const fs::path& file) {
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) throw SystemError("cannot create " + file.string(), errno);
    ::fchmod(fd, 0600);
    ::close(fd);
}

// A node's serial console, read as it grows.
class ConsoleTail {
  public:
    explicit ConsoleTail(const fs::path& file) {
        fd_ = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0) throw SystemError("cannot read " + file.string(), errno);
    }
    ~ConsoleTail() { ::close(fd_); }
    ConsoleTail(const ConsoleTail&) = delete;
    ConsoleTail& operator=(const ConsoleTail&) = delete;
    template <class Fn>
    void read_lines(Fn on_line) {
        char buf[65536];
        for (;;) {
            ssize_t n = ::read(fd_, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            splitter_.feed(std::string_view(buf, static_cast<std::size_t>(n)), on_line);
        }
    }

  private:
    int fd_ = -1;
    LineSplitter splitter_;
};

fs::path default_ovmf(const char* name_4m, const char* name) {
    fs::path dir = "/usr/share/OVMF";
    std::error_code ec;
    if (fs::exists(dir / name_4m, ec)) return dir / name_4m;
    return dir / name;
}

// KVM when QEMU can use it: /dev/kvm opens, and a QEMU with accel=kvm is still running after
// three seconds (on some hosts it exists but QEMU aborts on it at once).
Accel pick_accel(const LabOptions& o, StatusBoard& board) {
    if (::access("/dev/kvm", R_OK | W_OK) != 0) {
        board.log("KVM not usable (/dev/kvm: " + std::string(std::strerror(errno)) +
                  "): TCG (emulation, several times slower)");
        return Accel::tcg;
    }
    fs::path log = o.scratch / "kvm-probe.log";
    std::optional<int> ended;
    {
        ChildProcess probe({o.qemu, "-machine", "pc,accel=kvm", "-cpu", "host", "-m", "64",
                            "-nodefaults", "-no-user-config", "-display", "none"},
                           "", log);
        auto until = Clock::now() + std::chrono::seconds(3);
        while (!(ended = probe.poll()) && Clock::now() < until && !InterruptGuard::signal()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    if (!ended) return Accel::kvm;
    std::string why = last_line_of(log);
    board.log("KVM not usable (QEMU with accel=kvm exited at once" +
              (why.empty() ? std::string() : ": " + why) +
              "): TCG (emulation, several times slower)");
    return Accel::tcg;
}

struct Vm {
    const LabNode* node = nullptr;
    fs::path serial, qemu_log;
    NodeProgress progress{"", {}, false};
    std::unique_ptr<ConsoleTail> console;
    std::unique_ptr<ChildProcess> process;
    Clock::time_point phase_since;
};

std::string node_line(const Vm& vm, std::size_t name_width, Clock::time_point now) {
    const NodeProgress& p = vm.progress;
    std::string name = p.node;
    name.resize(std::max(name.size(), name_width), ' ');
    std::string phase = to_string(p.phase);
    phase.resize(std::max<std::size_t>(phase.size(), 10), ' ');
    std::string what;
    switch (p.phase) {
        case Phase::boot:
        case Phase::system_up:
            what = "for " + duration(now - vm.phase_since);
            break;
        case Phase::first_boot: {
            std::string cur = p.current();
            auto at = std::find(p.plan.begin(), p.plan.end(), cur);
            what = cur.empty() ? "(starting)"
                               : cur + " (" + std::to_string(at - p.plan.begin() + 1) + "/" +
                                     std::to_string(p.plan.size()) + ")";
            if (!p.retrying.empty()) what += ", " + p.retrying + " failing: " + p.retry_why;
            break;
        }
        case Phase::done:
            what = "all steps done";
            break;
        case Phase::failed:
            what = p.failed_step + " gave up: " + p.failure;
            break;
    }
    return "  " + name + "  " + phase + "  " + what;
}

void stop_all(std::vector<Vm>& vms) {
    for (auto& vm : vms) {
        if (vm.process && !vm.process->poll()) ::kill(vm.process->pid(), SIGTERM);
    }
    for (auto& vm : vms) vm.process.reset();  // waits (then SIGKILL) and reaps
}

}  // namespace

void check_nic_names(const std::vector<LabNode>& nodes) {
    for (const auto& n : nodes) {
        for (const auto& nic : n.nics) {
            if (!nic_slot(nic.device)) {
                throw InputError(
                    n.name + ", interface " + nic.device +
                    ": a VM cannot have a NIC of that name (a virtio NIC in QEMU's PCI slot N "
                    "is ensN, N from 3 to 31), so the node's network configuration would not "
                    "apply; rehearse a copy of the site whose NICs are named ens3, ens4, … "
                    "(scripts/rehearse makes one)");
            }
        }
    }
}

int run_lab(const LabOptions& o, CommandRunner& runner) {
    std::ostream& out = o.out ? *o.out : std::cout;
    if (o.nodes.empty()) throw InputError("the site has no nodes");
    std::vector<NodeProgress> plans;
    for (const auto& n : o.nodes) plans.push_back({n.name, n.plan, n.controller});
    if (o.until) check_until(*o.until, plans);
    check_nic_names(o.nodes);

    Firmware firmware = o.firmware;
    fs::path ovmf_code = o.ovmf_code, ovmf_vars = o.ovmf_vars;
    if (firmware == Firmware::uefi) {
        if (ovmf_code.empty()) ovmf_code = default_ovmf("OVMF_CODE_4M.fd", "OVMF_CODE.fd");
        if (ovmf_vars.empty()) ovmf_vars = default_ovmf("OVMF_VARS_4M.fd", "OVMF_VARS.fd");
        for (const auto& f : {ovmf_code, ovmf_vars}) {
            std::error_code ec;
            if (!fs::is_regular_file(f, ec)) {
                throw InputError("--firmware uefi: no " + f.string() +
                                 " (apt-get install ovmf), or use --firmware bios");
            }
        }
    }

    // The logs: kept, private.
    make_logs_folder(o.logs);
    std::error_code ec;

    StatusBoard board(out, o.tty);
    InterruptGuard interrupt;
    auto start = Clock::now();

    Accel accel = o.accel ? *o.accel : pick_accel(o, board);

    // One bridge per site network that a node has a NIC on; one tap per NIC.
    std::optional<NetNamespace> ns;
    ns.emplace(lab_namespace_name(), runner);
    std::map<std::string, std::string> bridge_of;
    for (std::size_t i = 0; i < o.networks.size(); ++i) {
        bool used = false;
        for (const auto& n : o.nodes)
            for (const auto& nic : n.nics) used |= nic.network == o.networks[i];
        if (!used) continue;
        bridge_of[o.networks[i]] = "br" + std::to_string(i);
        ns->add_bridge(bridge_of[o.networks[i]]);
    }

    std::vector<Vm> vms;
    vms.reserve(o.nodes.size());
    std::size_t name_width = 4;
    for (std::size_t i = 0; i < o.nodes.size(); ++i) {
        try {
            const LabNode& n = o.nodes[i];
            name_width = std::max(name_width, n.name.size());
            Vm vm;
            vm.node = &n;
            vm.progress = plans[i];
            vm.serial = o.logs / (n.name + ".serial.log");
            vm.qemu_log = o.logs / (n.name + ".qemu.log");
            fresh_file(vm.serial);
            fresh_file(vm.qemu_log);

            VmSpec spec;
            spec.node = n.name;
            spec.qemu = o.qemu;
            spec.accel = accel;
            spec.firmware = firmware;
            spec.memory_mib = o.memory_mib;
            spec.cpu = o.cpu;
            spec.serial_log = vm.serial;
            spec.disk = o.scratch / (n.name + ".overlay.qcow2");
            run_checked(runner,
                        {o.qemu_img, "create", "-q", "-f", "qcow2", "-b",
                         fs::absolute(n.image).string(), "-F", "qcow2", spec.disk.string()});
            fs::permissions(spec.disk, fs::perms::owner_read | fs::perms::owner_write, ec);
            if (firmware == Firmware::uefi) {
                spec.ovmf_code = ovmf_code;
                spec.ovmf_vars = o.scratch / (n.name + ".OVMF_VARS.fd");
                write_file_atomic(spec.ovmf_vars, read_file(ovmf_vars, 64 << 20), 0600);
            }
            for (std::size_t k = 0; k < n.nics.size(); ++k) {
                auto bridge = bridge_of.find(n.nics[k].network);
                if (bridge == bridge_of.end()) {
                    throw InputError(n.name + ": NIC on unknown network '" + n.nics[k].network +
                                     "'");
                }
                std::string tap = "t" + std::to_string(i) + "n" + std::to_string(k);
                ns->add_tap(tap, bridge->second);
                spec.nics.push_back({tap, n.nics[k].mac, *nic_slot(n.nics[k].device)});
            }
            vms.push_back(std::move(vm));
            vms.back().console = std::make_unique<ConsoleTail>(vms.back().serial);
            vms.back().process =
                std::make_unique<ChildProcess>(qemu_argv(spec), ns->name(), vms.back().qemu_log);
            vms.back().phase_since = Clock::now();
            board.log(n.name + ": booting (" + std::string(accel == Accel::kvm ? "KVM" : "TCG") +
                      ", " + (firmware == Firmware::uefi ? "UEFI" : "BIOS") + ", " +
                      std::to_string(o.memory_mib) + " MiB, " + std::to_string(n.nics.size()) +
                      " NIC" + (n.nics.size() == 1 ? "" : "s") + "; console " +
                      vms.back().serial.string() + ")");
        } catch (const std::exception&) {
            // The VMs started so far, the namespace and the run's folder go on the way out.
            std::throw_with_nested(Error(o.nodes[i].name + ": cannot start its VM"));
        }
    }
    std::string goal = o.until ? "until " + *o.until + " is done" : "until the controller is done";
    board.log("site " + o.site + ": " + std::to_string(vms.size()) + " VMs in network namespace " +
              ns->name() + ", " + goal + " (timeout " + std::to_string(o.timeout.count()) + " s)");

    Verdict verdict;
    std::string failure;
    auto header = [&](Clock::time_point now) {
        return "site " + o.site + " (" + duration(now - start) + ", " + goal + "):";
    };
    for (;;) {
        auto now = Clock::now();
        for (auto& vm : vms) {
            vm.console->read_lines([&](const std::string& line) {
                auto e = parse_console_line(line, vm.progress.node, vm.progress.plan);
                if (!e) return;
                Phase before = vm.progress.phase;
                std::string change = vm.progress.apply(*e);
                if (vm.progress.phase != before) vm.phase_since = now;
                if (!change.empty()) board.log(vm.progress.node + ": " + change);
            });
        }
        std::vector<NodeProgress> progress;
        for (const auto& vm : vms) progress.push_back(vm.progress);
        verdict = judge(progress, o.until);
        if (verdict.state != Verdict::State::running) break;
        for (auto& vm : vms) {
            if (auto status = vm.process->poll()) {
                std::string at = vm.progress.current();
                std::string why = last_line_of(vm.qemu_log);
                failure = vm.progress.node + ": its VM ended (QEMU exit " +
                          std::to_string(*status) + ") during " + to_string(vm.progress.phase) +
                          (at.empty() ? std::string() : ", at step " + at) +
                          (why.empty() ? std::string() : ": " + why);
                break;
            }
        }
        if (!failure.empty()) break;
        if (int sig = InterruptGuard::signal()) {
            failure = std::string("interrupted (") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ")";
            break;
        }
        if (now - start >= o.timeout) {
            std::vector<std::string> where;
            for (const auto& vm : vms) {
                std::string at = vm.progress.current();
                where.push_back(vm.progress.node + " in " + to_string(vm.progress.phase) +
                                (at.empty() ? std::string() : " at " + at));
            }
            failure = "timed out after " + std::to_string(o.timeout.count()) +
                      " s: " + text::join(where, "; ");
            break;
        }
        std::vector<std::string> lines{header(now)};
        for (const auto& vm : vms) lines.push_back(node_line(vm, name_width, now));
        board.draw(lines);
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    auto end = Clock::now();
    std::vector<std::string> lines{header(end)};
    for (const auto& vm : vms) lines.push_back(node_line(vm, name_width, end));
    board.draw(lines);
    board.close();

    std::size_t count = vms.size();
    stop_all(vms);
    vms.clear();
    std::string ns_name = ns->name();
    ns.reset();
    std::ostream& err = std::cerr;
    err << "airstrap: stopped " << count << " VMs, removed network namespace " << ns_name << "\n";
    err << "airstrap: serial logs: " << o.logs.string() << "/NODE.serial.log\n";
    if (verdict.state == Verdict::State::passed) {
        out << "passed: " << verdict.message << " after " << duration(end - start) << "\n";
        return 0;
    }
    std::string why = verdict.state == Verdict::State::failed ? verdict.message : failure;
    err << "airstrap: error: lab of " << o.site << " failed after " << duration(end - start) << ": "
        << why << "\n";
    return 1;
}

}  // namespace airstrap::lab
