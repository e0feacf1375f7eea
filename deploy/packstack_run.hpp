// Reading what packstack prints, and what it leaves behind for the client tools.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace airstrap::deploy {

struct PackstackReport {
    bool completed = false;       // "Installation completed successfully"
    std::string setup_log;        // "The installation log file is available at: …"
    std::string failed_manifest;  // "ERROR : Error appeared during Puppet run: 10.0.0.1_network.pp"
    std::string error;      // the first "Error: …" after it, or packstack's own "ERROR : …"
    std::string trace_log;  // "You will find full trace in log …"
};

// Colour codes and carriage returns (packstack colours its output) are ignored.
PackstackReport read_packstack_output(std::string_view output);

// One line for the status: which manifest on which host failed, why, and where to look.
// `hosts` maps management addresses to node names. `own_log` is where the whole run is kept.
std::string describe_packstack_failure(const PackstackReport& report,
                                       const std::map<std::string, std::string>& hosts,
                                       const std::string& own_log, int exit_code);

// keystonerc_admin as packstack writes it: `export OS_X=value` lines (values may be quoted);
// only OS_* variables are taken, so nothing else of the shell file reaches the environment.
std::map<std::string, std::string> parse_keystonerc(std::string_view text);

}  // namespace airstrap::deploy
