// The operator's commands on a node: status (one node, or the whole site on the controller)
// and rejoin (on the controller).
#pragma once

#include <ostream>
#include <string>

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

}  // namespace airstrap::firstboot
