// The lab's one network namespace, owned by one object: made in the constructor, deleted
// (with every bridge and tap inside it) by the destructor. Nothing is added to the caller's
// namespace: no veth, no route, no address; the site's networks exist only in here, one Linux
// bridge each, and every VM NIC is a tap on its network's bridge. iproute2 through a
// CommandRunner, so that the tests can record the commands.
#pragma once

#include <string>

#include "common/subprocess.hpp"

namespace airstrap::lab {

class NetNamespace {
  public:
    // `ip netns add NAME` and its loopback up; Error with ip's message when it cannot.
    NetNamespace(std::string name, CommandRunner& runner);
    ~NetNamespace();  // `ip netns del NAME` (its interfaces go with it)
    NetNamespace(const NetNamespace&) = delete;
    NetNamespace& operator=(const NetNamespace&) = delete;

    const std::string& name() const { return name_; }
    // A bridge, up, with no address.
    void add_bridge(const std::string& bridge);
    // A tap on `bridge`, up: a QEMU started inside the namespace opens it by name.
    void add_tap(const std::string& tap, const std::string& bridge);

  private:
    std::string name_;
    CommandRunner& runner_;
    void ip(const std::vector<std::string>& args);
};

// "airstrap-lab-PID": unique on this machine while we run.
std::string lab_namespace_name();

}  // namespace airstrap::lab
