#include "lab/netns.hpp"

#include <unistd.h>

#include <iostream>

#include "common/error.hpp"

namespace airstrap::lab {

NetNamespace::NetNamespace(std::string name, CommandRunner& runner)
    : name_(std::move(name)), runner_(runner) {
    run_checked(runner_, {"ip", "netns", "add", name_});
    try {
        ip({"link", "set", "lo", "up"});
    } catch (...) {
        runner_.run({"ip", "netns", "del", name_});
        throw;
    }
}

NetNamespace::~NetNamespace() {
    try {
        ProcessResult r = runner_.run({"ip", "netns", "del", name_});
        if (r.exit_code != 0) {
            std::cerr << "airstrap: warning: could not delete network namespace " << name_
                      << " (delete it with 'ip netns del " << name_ << "'): " << r.output;
        }
    } catch (const std::exception& e) {
        std::cerr << "airstrap: warning: could not delete network namespace " << name_ << ": "
                  << describe(e) << "\n";
    }
}

void NetNamespace::ip(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"ip", "-n", name_};
    argv.insert(argv.end(), args.begin(), args.end());
    run_checked(runner_, argv);
}

void NetNamespace::add_bridge(const std::string& bridge) {
    ip({"link", "add", bridge, "type", "bridge"});
    ip({"link", "set", bridge, "up"});
}

void NetNamespace::add_tap(const std::string& tap, const std::string& bridge) {
    ip({"tuntap", "add", "dev", tap, "mode", "tap"});
    ip({"link", "set", tap, "master", bridge, "up"});
}

std::string lab_namespace_name() {
    return "airstrap-lab-" + std::to_string(::getpid());
}

}  // namespace airstrap::lab
