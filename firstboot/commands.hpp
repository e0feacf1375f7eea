// The operator's commands on a node: status (one node, or the whole site on the controller),
// rejoin (on the controller) and links (the cabling check, run now).
#pragma once

#include <ostream>
#include <string>

#include "common/subprocess.hpp"
#include "node/layout.hpp"

namespace airstrap::firstboot {

struct StatusOptions {
    node::Paths paths;
    bool json = false;
    bool wait = false;
    int timeout = 3600;
};

// Prints the status; returns 0 done, 1 failed, 3 in progress.
int show_status(const StatusOptions& options, std::ostream& out);

// Opens a rejoin window for NODE (the controller's next enrolment from it may carry new host
// keys); InputError if NODE is not a node of the site or is the controller itself.
void open_rejoin(const node::Paths& paths, const std::string& node, std::ostream& out);

// The cabling step's check run now (cabling.hpp), e.g. after recabling: one line per link,
// NETWORK DEVICE PEER ADDRESS RESULT, then the step's detail. Returns 0 when every link
// works, 1 otherwise. `runner` runs ping (the system's, or a test's).
int check_links(const node::Paths& paths, CommandRunner& runner, std::ostream& out);

}  // namespace airstrap::firstboot
