// The daemon: runs this node's plan of steps from the journal (resuming after a crash),
// enrols with the controller (or, on the controller, serves enrolment and waits at the
// barrier for every node), then stays up quietly: nodes follow roster changes (a rejoined
// node's new host keys), the controller keeps serving and re-checks SSH when a pin changes.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "node/identity.hpp"
#include "node/layout.hpp"

namespace airstrap::firstboot {

struct DaemonOptions {
    node::Paths paths;
    std::string exec_hook;                 // sandbox: every system command runs as `HOOK argv…`
    std::chrono::milliseconds poll{2000};  // retry/wait interval; quiet polls every 30×
    std::string rerun;                     // mark this step and the later ones pending first
    bool exit_when_done = false;           // for benchmarks: stop once every step is done
};

// The steps of a node's plan, in order.
std::vector<std::string> plan_for(const node::Site& site, const node::Node& node);

// Runs until stopped (SIGTERM/SIGINT: `stop` set) or, with exit_when_done, until done.
// Returns the exit code: 0 done or stopped cleanly, 1 on a fatal error.
int run_daemon(const DaemonOptions& options, const std::atomic<bool>& stop);

}  // namespace airstrap::firstboot
