// The site manifest: everything an operator says about one air-gapped OpenStack site.
// Filled by parse_site(), checked by validate_site(); every field that a later check may
// complain about keeps the location it came from.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/diagnostics.hpp"
#include "node/role.hpp"
#include "site/net.hpp"

namespace airstrap::site {

enum class Distro { el7, el8, el9 };
// A node's role: the one enum the installed node shares (node/role.hpp).
using node::all_roles;
using node::Role;
using node::to_string;
enum class Selinux { disabled, permissive, enforcing };
enum class Rtc { utc, local };
enum class L2Agent { openvswitch, ovn };
enum class NetworkPurpose { management, external, tenant, storage };

const char* to_string(Distro d);
const char* to_string(Selinux s);
const char* to_string(L2Agent a);
const char* to_string(NetworkPurpose p);

struct Network {
    std::string name;
    NetworkPurpose purpose = NetworkPurpose::management;
    Cidr cidr;
    std::optional<Ipv4> gateway;
    std::vector<Ipv4> dns;
    int mtu = 1500;
    SourceLocation where, cidr_at, gateway_at;
};

struct Interface {
    std::string name;
    std::string mac;  // normalised lower-case "aa:bb:…"; empty when not given
    std::string network;
    std::optional<Ipv4> address;
    std::string bridge;  // e.g. br-ex: the OVS bridge that takes this NIC over
    SourceLocation where, name_at, mac_at, network_at, address_at;
};

struct Node {
    std::string name;
    Role role = Role::compute;
    std::vector<Interface> interfaces;
    std::string disk = "sda";
    bool nested_virtualization = false;
    SourceLocation where, name_at;

    const Interface* interface_on(const std::string& network) const;
};

struct RepoSource {
    enum class Kind { tarball, directory, url };
    Kind kind = Kind::directory;
    std::string name;
    std::string location;  // URL, or a path made absolute against the site file's folder
    SourceLocation where;
};

struct Media {
    std::string vendor_iso;  // absolute; empty when not given
    std::vector<RepoSource> repos;
    std::vector<std::string> gpg_keys;  // armored public keys, absolute paths
    bool require_signatures = false;    // true by default when gpg_keys are named
    SourceLocation vendor_iso_at;
};

struct PackageChanges {
    std::vector<std::string> add;
    std::vector<std::string> remove;
    SourceLocation where;
};

struct Packages {
    bool weak_deps = true;  // Recommends/Supplements installed (dnf's install_weak_deps)
    PackageChanges common;
    std::map<Role, PackageChanges> roles;
};

struct Security {
    Selinux selinux = Selinux::enforcing;
    bool firewalld = true;
    bool network_manager = true;
    SourceLocation network_manager_at, where;
};

struct TimeSync {
    std::vector<std::string> upstream;  // servers the controller follows; empty = local clock
    int stratum = 10;                   // what the controller advertises without upstreams
};

// The first-boot daemon on the installed nodes (firstboot/).
struct Firstboot {
    int port = 7447;             // controller's enrolment TCP port; beacons on the same UDP port
    int barrier_timeout = 3600;  // seconds the controller waits for every node
    int sync_timeout = 600;      // seconds a node waits for chrony to synchronise
    int rejoin_window = 3600;    // seconds an `airstrap rejoin` window stays open
};

// Disk images per node (`airstrap build qcow2`, builder/qcow2).
struct Qcow2 {
    int size_gib = 20;      // the disk's virtual size; qcow2 files are sparse
    std::string profile;    // distro profile; empty: the site's distro (el7, el8, el9)
    bool compress = false;  // qcow2 compressed clusters: smaller files, slower first writes
};

struct AnswerOverride {
    std::string key;
    std::string value;
    SourceLocation where;
};

struct OpenStack {
    std::string deployer = "packstack";
    std::string release;
    L2Agent l2_agent = L2Agent::openvswitch;
    std::map<std::string, bool> services;  // swift, aodh, demo … → install or not
    std::map<std::string, SourceLocation> service_at;
    std::string cinder_volumes_size = "20G";
    std::vector<AnswerOverride> answers;
    SourceLocation where, release_at, l2_agent_at;
};

struct Ssh {
    std::vector<std::string> authorized_keys;
};

// Day-1 resources (cloud:): what the controller's first-boot daemon creates with the
// openstack CLI after Packstack, when missing. Never deleted or changed by airstrap.
struct CloudExternalNetwork {
    std::string name;
    std::string network;                      // the site network (purpose external) it lives on
    std::string physical_network = "extnet";  // Packstack's bridge-mapping name
    std::string subnet;                       // default NAME_subnet
    std::optional<std::pair<Ipv4, Ipv4>> allocation_pool;
    std::optional<Ipv4> gateway;  // default: the site network's gateway
    std::vector<Ipv4> dns;
    SourceLocation where, name_at, network_at, subnet_at, physical_network_at, allocation_pool_at,
        gateway_at;
};

struct CloudNetwork {
    std::string name;
    std::string subnet;  // default NAME_subnet
    Cidr cidr;
    std::optional<Ipv4> gateway;  // none: Neutron picks the first address
    std::vector<Ipv4> dns;
    std::string project = "admin";
    SourceLocation where, name_at, subnet_at, cidr_at, gateway_at, project_at;
};

struct CloudRouter {
    std::string name;
    bool external_gateway = false;
    std::vector<std::string> subnets;
    std::vector<SourceLocation> subnet_at;
    std::string project = "admin";
    SourceLocation where, name_at, external_gateway_at, project_at;
};

struct CloudFlavor {
    std::string name;
    int vcpus = 1;
    int ram = 512;  // MiB
    int disk = 1;   // GiB
    bool is_public = true;
    SourceLocation where, name_at;
};

struct CloudImage {
    std::string name;
    std::string source;  // absolute: resolved against the site file's folder
    std::string disk_format = "qcow2";
    std::string container_format = "bare";
    bool is_public = true;
    SourceLocation where, name_at, source_at;

    // Where `airstrap mirror` puts it in the site repository, and the node finds it.
    std::string file() const;
};

struct CloudProject {
    std::string name;
    std::string description;
    SourceLocation where, name_at;
};

struct CloudUser {
    std::string name;
    std::string project;
    std::string role;  // default: default_member_role(openstack.release)
    SourceLocation where, name_at, project_at;
};

struct Cloud {
    std::optional<CloudExternalNetwork> external_network;
    std::vector<CloudNetwork> networks;
    std::vector<CloudRouter> routers;
    std::vector<CloudFlavor> flavors;
    std::vector<CloudImage> images;
    std::vector<CloudProject> projects;
    std::vector<CloudUser> users;
    SourceLocation where;
};

// Keystone's ordinary role: "_member_" up to rocky, "member" from stein on.
std::string default_member_role(std::string_view release);

struct Site {
    std::string name;
    std::string domain;
    Distro distro = Distro::el7;
    std::string timezone = "UTC";
    Rtc rtc = Rtc::utc;
    std::string language = "en_US.UTF-8";
    std::string keyboard = "us";
    std::vector<Network> networks;
    std::vector<Node> nodes;
    Media media;
    Packages packages;
    Security security;
    TimeSync time;
    Firstboot firstboot;
    Qcow2 qcow2;
    OpenStack openstack;
    Cloud cloud;
    Ssh ssh;
    std::filesystem::path secrets_path;  // absolute
    std::string file;                    // the site file as named, for messages after parsing
    SourceLocation distro_at, timezone_at, nodes_at;

    const Network* network(const std::string& name) const;
    const Network* management_network() const;
    const Node* controller() const;
    std::vector<const Node*> nodes_with_role(Role role) const;
    // The address the node is reached at on the management network.
    std::optional<Ipv4> management_address(const Node& node) const;
};

}  // namespace airstrap::site
