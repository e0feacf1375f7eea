// airstrap-firstboot: the daemon (`run`), its status, the controller's rejoin command and the
// cabling check (`links`).
// Installed also as `airstrap`, so an operator on a node types `airstrap status`.
#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>

#include "common/crypto.hpp"
#include "common/error.hpp"
#include "common/kernel_random.hpp"
#include "common/subprocess.hpp"
#include "firstboot/commands.hpp"
#include "firstboot/daemon.hpp"

namespace {

std::atomic<bool> stop_requested{false};
void on_signal(int) {
    stop_requested = true;
}

// What the daemon needs from this kernel, each shown working: random bytes (getrandom, or
// /dev/urandom on CentOS 7's 3.10), OpenSSL's generator seeded from them, AES-256-GCM.
int self_test(std::ostream& out) {
    using namespace airstrap;
    out << "random source: " << to_string(kernel_random_source())
        << (kernel_random_source() == KernelRandomSource::urandom
                ? " (this kernel has no getrandom)\n"
                : "\n");
    crypto::Bytes key = crypto::random_bytes(32);
    crypto::Bytes drbg = crypto::drbg_bytes(32);
    if (key == crypto::random_bytes(32) || drbg == crypto::drbg_bytes(32)) {
        throw Error("self-test: two random draws were equal");
    }
    out << "random bytes: ok\n"
        << "OpenSSL's generator: ok, seeded with " << crypto::kernel_seed_bytes()
        << " bytes from the kernel\n";
    crypto::Bytes sealed = crypto::seal(key, crypto::random_bytes(12), "self-test", "context");
    if (crypto::unseal(key, sealed, "context") != "self-test") {
        throw Error("self-test: AES-256-GCM did not give the plaintext back");
    }
    out << "AES-256-GCM: ok\nself-test passed\n";
    return 0;
}

constexpr const char* exit_codes =
    "Exit codes: 0 ok (status: done), 1 failure (status: a step failed or a node was refused),\n"
    "2 bad usage or bad input, 3 (status only) still in progress.";

}  // namespace

int main(int argc, char** argv) {
    using namespace airstrap;
    using namespace airstrap::firstboot;
    CLI::App app{
        "airstrap-firstboot: finish an installed node of an airstrap site (enrol, SSH "
        "keys, chrony, role steps)",
        "airstrap-firstboot"};
    app.footer(exit_codes);
    app.set_version_flag("--version", AIRSTRAP_VERSION);
    app.require_subcommand(1);

    std::string root = "/";
    DaemonOptions run;
    double poll_seconds = 2.0;
    auto* run_cmd = app.add_subcommand(
        "run", "Run this node's steps (the systemd unit's command); stays up when done");
    run_cmd->add_option("--root", root, "Root of the node's files (tests: a sandbox)");
    run_cmd->add_option("--exec-hook", run.exec_hook,
                        "Run every system command as HOOK ARGV… (tests: a sandbox)");
    run_cmd->add_option("--poll-interval", poll_seconds, "Seconds between retries (default 2)")
        ->check(CLI::Range(0.05, 600.0));
    run_cmd->add_option("--rerun", run.rerun, "Run STEP and every later step again");
    run_cmd->add_flag("--exit-when-done", run.exit_when_done, "Exit once every step is done");
    run_cmd->footer(exit_codes);

    StatusOptions status;
    auto* status_cmd = app.add_subcommand(
        "status", "This node's steps; on the controller, every node of the site");
    status_cmd->add_option("--root", root, "Root of the node's files");
    status_cmd->add_flag("--json", status.json, "Print JSON");
    status_cmd->add_flag("--wait", status.wait,
                         "Wait until done (a failed step is retried by the daemon); at the "
                         "timeout, report the state then");
    status_cmd->add_option("--timeout", status.timeout, "Seconds --wait waits (default 3600)")
        ->check(CLI::Range(1, 7 * 86400));
    status_cmd->footer(exit_codes);

    std::string rejoin_node;
    auto* rejoin_cmd = app.add_subcommand(
        "rejoin", "On the controller: accept NODE's new SSH host keys once (a reinstalled node)");
    rejoin_cmd->add_option("NODE", rejoin_node, "The node's name in site.yaml")->required();
    rejoin_cmd->add_option("--root", root, "Root of the node's files");
    rejoin_cmd->footer(exit_codes);

    auto* links_cmd = app.add_subcommand(
        "links",
        "Check this node's links now (the cabling step): ping every peer on every network "
        "both are addressed on, at the site's MTU with don't-fragment; exit 1 if one is broken");
    links_cmd->add_option("--root", root, "Root of the node's files");
    links_cmd->footer(exit_codes);

    auto* self_test_cmd = app.add_subcommand(
        "self-test",
        "Check what the daemon needs from this kernel: random bytes (getrandom, or "
        "/dev/urandom on 3.10), OpenSSL's generator, AES-256-GCM");
    self_test_cmd->footer(exit_codes);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : static_cast<int>(ExitCode::bad_input);
    }

    try {
        // Before anything draws from OpenSSL: on CentOS 7's 3.10 (no getrandom) OpenSSL could
        // not seed itself.
        crypto::seed_from_kernel();
        if (*self_test_cmd) return self_test(std::cout);
        node::Paths paths;
        paths.root = root;
        if (*run_cmd) {
            // The unit's UMask=0077 is for our files; the commands we run get the usual 022.
            set_child_umask(022);
            run.paths = paths;
            run.poll = std::chrono::milliseconds(static_cast<long long>(poll_seconds * 1000));
            struct sigaction sa {};
            sa.sa_handler = on_signal;
            sigaction(SIGTERM, &sa, nullptr);
            sigaction(SIGINT, &sa, nullptr);
            std::signal(SIGPIPE, SIG_IGN);
            if (kernel_random_source() == KernelRandomSource::urandom) {
                std::cerr << "airstrap-firstboot: this kernel has no getrandom (older than "
                             "3.17): random bytes come from /dev/urandom\n";
            }
            return run_daemon(run, stop_requested);
        }
        if (*status_cmd) {
            status.paths = paths;
            return show_status(status, std::cout);
        }
        if (*links_cmd) {
            SystemCommandRunner runner;
            return check_links(paths, runner, std::cout);
        }
        if (*rejoin_cmd) {
            open_rejoin(paths, rejoin_node, std::cout);
            return 0;
        }
    } catch (const std::exception& e) {
        std::cerr << "airstrap-firstboot: error: " << describe(e) << "\n";
        return static_cast<int>(exit_code_of(e));
    }
    return 0;
}
