// What the daemon knows about its site: /etc/airstrap/site.json (site::to_json, written by
// the kickstart), the site secret and this node's name. Parsed strictly: a node that read a
// wrong or truncated file must stop with a clear error, not enrol with half a site.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
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

// Day-1 resources (site.yaml cloud:) the controller creates after Packstack when missing.
struct CloudNetworkView {
    std::string name, subnet, cidr, gateway, project = "admin";  // gateway "": none / Neutron's
    std::vector<std::string> dns;
    bool external = false;         // true only for the external network
    std::string physical_network;  // external network only
    std::vector<std::pair<std::string, std::string>> allocation_pools;  // start, end
};
struct CloudRouterView {
    std::string name, project = "admin";
    bool external_gateway = false;
    std::vector<std::string> subnets;
};
struct CloudFlavorView {
    std::string name;
    int vcpus = 1, ram = 512, disk = 1;  // ram in MiB, disk in GiB
    bool is_public = true;
};
struct CloudImageView {
    std::string name, file, disk_format = "qcow2", container_format = "bare";  // file: relative
    bool is_public = true;  // to the node's repository folder, without '..'
};
struct CloudProjectView {
    std::string name, description;
};
struct CloudUserView {
    std::string name, project, role;  // password: the deploy config, never site.json
};
struct CloudView {
    std::optional<CloudNetworkView> external_network;
    std::vector<CloudNetworkView> networks;
    std::vector<CloudRouterView> routers;
    std::vector<CloudFlavorView> flavors;
    std::vector<CloudImageView> images;
    std::vector<CloudProjectView> projects;
    std::vector<CloudUserView> users;
    bool empty() const;  // nothing to create
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
    std::string openstack_release;  // e.g. queens
    std::string l2_agent;           // openvswitch | ovn
    CloudView cloud;

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
