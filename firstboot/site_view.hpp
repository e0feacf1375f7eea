// What the daemon knows about its site: /etc/airstrap/site.json (site::to_json, written by
// the kickstart), the site secret and this node's name. Parsed strictly: a node that read a
// wrong or truncated file must stop with a clear error, not enrol with half a site.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/crypto.hpp"
#include "firstboot/paths.hpp"

namespace airstrap::firstboot {

enum class Role { controller, network, compute };
const char* to_string(Role r);

struct NodeView {
    std::string name;
    Role role = Role::compute;
    std::string address;       // IPv4 on the management network, dotted quad
    std::string external_nic;  // network role: the NIC Neutron's external bridge takes over
    std::string external_bridge;
    bool nested_virtualization = false;
};

struct SiteView {
    std::string name;
    std::string domain;
    std::string distro;                // el7, el8, el9
    std::string management_cidr;       // e.g. 192.168.111.0/24
    std::string management_broadcast;  // e.g. 192.168.111.255
    std::string selinux;               // disabled, permissive, enforcing
    bool firewalld = true;
    bool network_manager = true;
    std::vector<std::string> time_upstream;
    int stratum = 10;
    std::uint16_t port = 7447;               // enrolment TCP port; beacons use the same UDP port
    int barrier_timeout = 3600;              // seconds the controller waits for every node
    int sync_timeout = 600;                  // seconds a node waits for chrony to sync
    std::vector<std::string> operator_keys;  // ssh.authorized_keys
    std::vector<NodeView> nodes;

    const NodeView* node(const std::string& name) const;
    const NodeView& controller() const;         // exactly one, checked by parse
    std::string fqdn(const NodeView& n) const;  // name.domain, or name without a domain
};

// Throws InputError("site.json: nodes[2].interfaces[0].address: expected …").
SiteView parse_site_json(const std::string& text);

struct Identity {
    SiteView site;
    crypto::Bytes secret;  // 32 bytes from site.key (hex)
    std::string node;      // this node's name
};

// Reads site.json, site.key and node under paths; the node must be in the site.
Identity load_identity(const Paths& paths);

}  // namespace airstrap::firstboot
