// /etc/airstrap/site.json: the site as an installed node knows it (no secrets: the file is
// world-readable). One set of structs serves both sides: site/site_json.cpp fills them from
// site.yaml's model and the kickstart writes them; airstrap-firstboot reads them back.
//
// Each struct's keys are listed once, in its fields() function below; the writer and the
// strict reader both walk that list, so a field cannot be written and forgotten by the
// reader (or the other way round). The reader refuses missing and unknown keys and wrong
// types, naming the key ("site.json: nodes[2].interfaces[0].address: expected …"), then
// checks values (addresses, ranges, names the openstack CLI gets).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "node/role.hpp"

namespace airstrap::node {

struct SiteInfo {
    std::string name, domain;
    std::string distro;    // el7, el8, el9
    std::string timezone;  // e.g. Asia/Shanghai

    bool operator==(const SiteInfo&) const = default;
};

struct Network {
    std::string purpose;  // management, external, tenant, storage
    std::string cidr;     // a.b.c.d/n
    std::optional<std::string> gateway;
    std::vector<std::string> dns;
    int mtu = 1500;

    bool operator==(const Network&) const = default;
};

struct Interface {
    std::string name;     // ens32
    std::string mac;      // lower-case; "" when the site gives none
    std::string network;  // a key of Site::networks
    std::optional<std::string> address;
    std::string bridge;  // the OVS bridge that takes this NIC over (br-ex), or ""

    bool operator==(const Interface&) const = default;
};

struct Node {
    std::string name;
    Role role = Role::compute;
    bool nested_virtualization = false;
    std::vector<Interface> interfaces;

    bool operator==(const Node&) const = default;
};

struct Security {
    std::string selinux;  // disabled, permissive, enforcing
    bool firewalld = true;
    bool network_manager = true;

    bool operator==(const Security&) const = default;
};

struct Time {
    std::vector<std::string> upstream;  // servers the controller follows; empty: local clock
    int stratum = 10;

    bool operator==(const Time&) const = default;
};

struct Firstboot {
    int port = 7447;             // enrolment TCP port; beacons use the same UDP port
    int barrier_timeout = 3600;  // seconds the controller waits for every node
    int sync_timeout = 600;      // seconds a node waits for chrony to sync
    int rejoin_window = 3600;    // seconds an `airstrap rejoin` window stays open
    // The controller's Ed25519 public key (64 hex digits): nodes believe only what it signs.
    std::string controller_key;

    bool operator==(const Firstboot&) const = default;
};

struct OpenStack {
    std::string deployer;  // packstack
    std::string release;   // e.g. queens
    std::string l2_agent;  // openvswitch | ovn
    std::map<std::string, bool> services;
    std::string cinder_volumes_size;
    std::map<std::string, std::string> answers;  // the site's overrides, by key

    bool operator==(const OpenStack&) const = default;
};

struct Ssh {
    std::vector<std::string> authorized_keys;  // the operators' keys

    bool operator==(const Ssh&) const = default;
};

// Day-1 resources (site.yaml cloud:) the controller creates after Packstack when missing.
// Names are passed to the openstack CLI: never empty, never option-like.
struct AddressRange {
    std::string start, end;

    bool operator==(const AddressRange&) const = default;
};
struct CloudExternalNetwork {
    std::string name, subnet, physical_network;
    std::string cidr;
    std::string gateway;  // "": none
    std::vector<AddressRange> allocation_pools;
    std::vector<std::string> dns;

    bool operator==(const CloudExternalNetwork&) const = default;
};
struct CloudNetwork {
    std::string name, subnet, cidr;
    std::string gateway;  // "": Neutron picks the first address
    std::vector<std::string> dns;
    std::string project = "admin";

    bool operator==(const CloudNetwork&) const = default;
};
struct CloudRouter {
    std::string name;
    bool external_gateway = false;
    std::vector<std::string> subnets;
    std::string project = "admin";

    bool operator==(const CloudRouter&) const = default;
};
struct CloudFlavor {
    std::string name;
    int vcpus = 1, ram = 512, disk = 1;  // ram in MiB, disk in GiB
    bool is_public = true;

    bool operator==(const CloudFlavor&) const = default;
};
struct CloudImage {
    std::string name;
    std::string file;  // relative to the node's repository folder, without '..'
    std::string disk_format = "qcow2", container_format = "bare";
    bool is_public = true;

    bool operator==(const CloudImage&) const = default;
};
struct CloudProject {
    std::string name, description;

    bool operator==(const CloudProject&) const = default;
};
struct CloudUser {
    std::string name, project, role;  // the password: deploy.sealed, never site.json

    bool operator==(const CloudUser&) const = default;
};
struct Cloud {
    std::optional<CloudExternalNetwork> external_network;
    std::vector<CloudNetwork> networks;
    std::vector<CloudRouter> routers;
    std::vector<CloudFlavor> flavors;
    std::vector<CloudImage> images;
    std::vector<CloudProject> projects;
    std::vector<CloudUser> users;

    bool empty() const;  // nothing to create
    bool operator==(const Cloud&) const = default;
};

struct Site {
    static constexpr int format = 1;  // the file's "format"; another number is refused

    SiteInfo site;
    std::map<std::string, Network> networks;  // by name
    std::vector<Node> nodes;
    Security security;
    Time time;
    Firstboot firstboot;
    OpenStack openstack;
    Ssh ssh;
    Cloud cloud;

    // Lookups the reader's checks guarantee to succeed (exactly one controller, one
    // management network, each node addressed on it).
    const Node* node(const std::string& name) const;
    const Node& controller() const;
    std::string fqdn(const Node& n) const;  // name.domain, or name without a domain
    std::string management_network() const;
    std::string management_cidr() const;       // e.g. 192.168.111.0/24
    std::string management_broadcast() const;  // e.g. 192.168.111.255
    std::string address(const Node& n) const;  // IPv4 on the management network
    // The network node's NIC that Neutron's external bridge takes over (on a network of
    // purpose external), or nullptr.
    const Interface* external_interface(const Node& n) const;

    bool operator==(const Site&) const = default;
};

// The file's bytes: keys sorted, one space of indent, a final newline; the same site gives
// the same bytes.
std::string site_json_text(const Site& site);
// Throws InputError("site.json: WHERE: WHAT (…rebuild the node's media…)").
Site parse_site_json(const std::string& text);

// Each struct's keys, in one place for the writer and the reader: f(key, member).
#define AIRSTRAP_NODE_FIELDS(Type, ...)                   \
    template <class S, class F>                           \
    requires std::is_same_v<std::remove_const_t<S>, Type> \
    void fields(S& s, F&& f) {                            \
        __VA_ARGS__                                       \
    }
AIRSTRAP_NODE_FIELDS(SiteInfo, f("name", s.name); f("domain", s.domain); f("distro", s.distro);
                     f("timezone", s.timezone);)
AIRSTRAP_NODE_FIELDS(Network, f("purpose", s.purpose); f("cidr", s.cidr); f("gateway", s.gateway);
                     f("dns", s.dns); f("mtu", s.mtu);)
AIRSTRAP_NODE_FIELDS(Interface, f("name", s.name); f("mac", s.mac); f("network", s.network);
                     f("address", s.address); f("bridge", s.bridge);)
AIRSTRAP_NODE_FIELDS(Node, f("name", s.name); f("role", s.role);
                     f("nested_virtualization", s.nested_virtualization);
                     f("interfaces", s.interfaces);)
AIRSTRAP_NODE_FIELDS(Security, f("selinux", s.selinux); f("firewalld", s.firewalld);
                     f("network_manager", s.network_manager);)
AIRSTRAP_NODE_FIELDS(Time, f("upstream", s.upstream); f("stratum", s.stratum);)
AIRSTRAP_NODE_FIELDS(Firstboot, f("port", s.port); f("barrier_timeout", s.barrier_timeout);
                     f("sync_timeout", s.sync_timeout); f("rejoin_window", s.rejoin_window);
                     f("controller_key", s.controller_key);)
AIRSTRAP_NODE_FIELDS(OpenStack, f("deployer", s.deployer); f("release", s.release);
                     f("l2_agent", s.l2_agent); f("services", s.services);
                     f("cinder_volumes_size", s.cinder_volumes_size); f("answers", s.answers);)
AIRSTRAP_NODE_FIELDS(Ssh, f("authorized_keys", s.authorized_keys);)
AIRSTRAP_NODE_FIELDS(AddressRange, f("start", s.start); f("end", s.end);)
AIRSTRAP_NODE_FIELDS(CloudExternalNetwork, f("name", s.name); f("subnet", s.subnet);
                     f("physical_network", s.physical_network); f("cidr", s.cidr);
                     f("gateway", s.gateway); f("allocation_pools", s.allocation_pools);
                     f("dns", s.dns);)
AIRSTRAP_NODE_FIELDS(CloudNetwork, f("name", s.name); f("subnet", s.subnet); f("cidr", s.cidr);
                     f("gateway", s.gateway); f("dns", s.dns); f("project", s.project);)
AIRSTRAP_NODE_FIELDS(CloudRouter, f("name", s.name); f("external_gateway", s.external_gateway);
                     f("subnets", s.subnets); f("project", s.project);)
AIRSTRAP_NODE_FIELDS(CloudFlavor, f("name", s.name); f("vcpus", s.vcpus); f("ram", s.ram);
                     f("disk", s.disk); f("public", s.is_public);)
AIRSTRAP_NODE_FIELDS(CloudImage, f("name", s.name); f("file", s.file);
                     f("disk_format", s.disk_format); f("container_format", s.container_format);
                     f("public", s.is_public);)
AIRSTRAP_NODE_FIELDS(CloudProject, f("name", s.name); f("description", s.description);)
AIRSTRAP_NODE_FIELDS(CloudUser, f("name", s.name); f("project", s.project); f("role", s.role);)
AIRSTRAP_NODE_FIELDS(Cloud, f("external_network", s.external_network); f("networks", s.networks);
                     f("routers", s.routers); f("flavors", s.flavors); f("images", s.images);
                     f("projects", s.projects); f("users", s.users);)
AIRSTRAP_NODE_FIELDS(Site, f("site", s.site); f("networks", s.networks); f("nodes", s.nodes);
                     f("security", s.security); f("time", s.time); f("firstboot", s.firstboot);
                     f("openstack", s.openstack); f("ssh", s.ssh); f("cloud", s.cloud);)
#undef AIRSTRAP_NODE_FIELDS

}  // namespace airstrap::node
