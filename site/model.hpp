// The site manifest: everything an operator says about one air-gapped OpenStack site.
// Filled by parse_site(), checked by validate_site(); every field that a later check may
// complain about keeps the location it came from.
#pragma once

#include <cstdint>
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

// A site network: IPv4 always (enrolment, chrony and Packstack's host lists speak IPv4),
// IPv6 beside it when `cidr6` is set (dual stack), 802.1Q-tagged when `vlan` is set.
struct Network {
    std::string name;
    NetworkPurpose purpose = NetworkPurpose::management;
    Cidr cidr;
    std::optional<Ipv4> gateway;
    std::vector<Ipv4> dns;
    std::optional<Cidr6> cidr6;
    std::optional<Ipv6> gateway6;
    int vlan = 0;  // 802.1Q id 1…4094 on every node's parent NIC or bond; 0: untagged
    int mtu = 1500;
    SourceLocation where, cidr_at, gateway_at, cidr6_at, gateway6_at, vlan_at, mtu_at;
};

// The kernel bonding driver's modes, by the names its `mode=` option takes.
enum class BondMode {
    balance_rr,
    active_backup,
    balance_xor,
    broadcast,
    lacp,  // 802.3ad
    balance_tlb,
    balance_alb
};
const char* to_string(BondMode m);

// A NIC enslaved to a bond: by MAC (the installer and NetworkManager find it by that), by
// name, or both.
struct BondMember {
    std::string name;  // "" when given by MAC only
    std::string mac;   // "" when given by name only
    SourceLocation where;
    std::string str() const { return name.empty() ? mac : name; }
};

struct Bond {
    std::string name;  // bond0
    std::vector<BondMember> members;
    BondMode mode = BondMode::active_backup;
    int miimon = 100;              // link check interval, ms
    std::string lacp_rate;         // slow | fast (802.3ad only); "" the driver's default
    std::string xmit_hash_policy;  // layer2 | layer2+3 | layer3+4 | encap2+3 | encap3+4
    int mtu = 0;                   // 0: the largest MTU of the networks it carries
    SourceLocation where, name_at, members_at, mode_at, lacp_rate_at, xmit_hash_policy_at, mtu_at;

    // "mode=802.3ad,miimon=100,lacp_rate=fast,…": kickstart's --bondopts and ifcfg's
    // BONDING_OPTS (with spaces), NetworkManager's [bond] keys, all from this.
    std::vector<std::pair<std::string, std::string>> options() const;
};

// A node's attachment to a site network: through the NIC or bond `name`, tagged with the
// network's VLAN when it has one (device NAME.VLAN), untagged otherwise. A NIC or bond may
// carry several VLAN networks and at most one untagged network.
struct Interface {
    std::string name;  // the parent: a NIC (ens32) or a bond of this node (bond0)
    std::string mac;   // normalised lower-case "aa:bb:…"; empty when not given (or a bond)
    std::string network;
    std::optional<Ipv4> address;
    std::optional<Ipv6> address6;
    std::string bridge;  // e.g. br-ex: the OVS bridge that takes this device over
    SourceLocation where, name_at, mac_at, network_at, address_at, address6_at, bridge_at;
};

enum class DiskUse { cinder_volumes, nova_instances };
const char* to_string(DiskUse u);  // cinder-volumes, nova-instances

// Which disk: a kernel name (sda, nvme0n1), a /dev/disk/by-path or by-id path, or a match on
// size and model that the installer resolves at install time.
struct DiskSelector {
    std::string device;         // sda or /dev/disk/by-…; "" when matched by size/model
    std::uint64_t size_gb = 0;  // vendor's decimal size in GB (480G, 1920G); 0: any
    std::string model;          // shell glob on the model the kernel shows; "": any
    SourceLocation where;

    bool is_match() const { return device.empty(); }
};

enum class SystemLayout { single, raid1 };

struct DataVolume {
    DiskUse use = DiskUse::cinder_volumes;
    DiskSelector disk;
    SourceLocation where, use_at;
};

// A node's disks: the system (one disk, or RAID1 across two, each with its own boot loader
// and a RAID1 ESP that firmware reads as a plain FAT), LVM or plain partitions on it, and
// data volumes on disks of their own.
struct Disks {
    std::vector<DiskSelector> system = {DiskSelector{"sda", 0, "", {}}};
    SystemLayout layout = SystemLayout::single;
    bool lvm = true;
    std::vector<DataVolume> data;
    SourceLocation where, layout_at;
    std::optional<Role> from_role;  // set on a node whose disks are its role's disk_layouts

    // The one-disk layout with LVM and no data volumes: kickstart's autopart serves it.
    bool is_simple() const {
        return layout == SystemLayout::single && lvm && data.empty() && system.size() == 1 &&
               !system[0].is_match();
    }
    const DataVolume* data_for(DiskUse use) const;
};

// A physical NIC of a node, as the site knows it: by name, MAC or both.
struct Nic {
    std::string name;  // "" for a bond member given by MAC only
    std::string mac;   // "" when the site gives none
    std::string bond;  // the bond it belongs to, or ""
    SourceLocation where;
};

struct Node {
    std::string name;
    Role role = Role::compute;
    std::vector<Bond> bonds;
    std::vector<Interface> interfaces;
    Disks disks;
    bool nested_virtualization = false;
    SourceLocation where, name_at;

    const Interface* interface_on(const std::string& network) const;
    const Bond* bond(const std::string& name) const;
    // Its physical NICs, each once: in the order the interfaces name them (a bond: its
    // members), then the members of bonds no interface names.
    std::vector<Nic> nics() const;
    // The MACs of nics(), where given: what the installer and the PXE service know it by.
    std::vector<std::string> macs() const;
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
    std::map<Role, Disks> disk_layouts;  // per role; a node's own disk/disks wins
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
    // The kernel device that carries `iface`'s network: NAME, or NAME.VLAN on a VLAN network.
    std::string device_of(const Interface& iface) const;
};

}  // namespace airstrap::site
