// The site manifest: everything an operator says about one air-gapped OpenStack site.
// Filled by parse_site(), checked by validate_site(); every field that a later check may
// complain about keeps the location it came from.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/diagnostics.hpp"
#include "site/net.hpp"

namespace airstrap::site {

enum class Distro { el7, el8, el9 };
enum class Role { controller, network, compute };
enum class Selinux { disabled, permissive, enforcing };
enum class Rtc { utc, local };
enum class L2Agent { openvswitch, ovn };
enum class NetworkPurpose { management, external, tenant, storage };

const char* to_string(Distro d);
const char* to_string(Role r);
const char* to_string(Selinux s);
const char* to_string(L2Agent a);
const char* to_string(NetworkPurpose p);
inline constexpr Role all_roles[] = {Role::controller, Role::network, Role::compute};

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
    OpenStack openstack;
    Ssh ssh;
    std::filesystem::path secrets_path;  // absolute
    SourceLocation distro_at, timezone_at, nodes_at;

    const Network* network(const std::string& name) const;
    const Network* management_network() const;
    const Node* controller() const;
    std::vector<const Node*> nodes_with_role(Role role) const;
    // The address the node is reached at on the management network.
    std::optional<Ipv4> management_address(const Node& node) const;
};

}  // namespace airstrap::site
