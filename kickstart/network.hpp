// A node's network, decided once from the site: its devices (NICs, bond members, bonds, VLANs)
// with their addresses, and the three ways EL writes them: kickstart network commands (the
// installer), /etc/sysconfig/network-scripts/ifcfg-* (EL7, EL8 with network-scripts) and
// NetworkManager keyfiles (EL8/9). The kickstart, the qcow2 builder and the unit tests use
// these renderers only; none decides anything of its own.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "site/model.hpp"

namespace airstrap::kickstart {

struct NetDevice {
    enum class Kind { ethernet, bond, vlan };
    Kind kind = Kind::ethernet;
    // ens32, bond0, bond0.120; "" for a bond member the site names by MAC only.
    std::string device;
    std::string mac;   // ethernet: lower case; "" when the site gives none
    std::string bond;  // ethernet: the bond it is a member of; "" otherwise
    int port = 0;      // ethernet in a bond: 1, 2, … in the bond's member order
    std::vector<std::pair<std::string, std::string>> bond_options;  // bond: mode, miimon, …
    std::vector<site::BondMember> members;                          // bond
    std::string parent;  // vlan: the NIC or bond it is tagged on
    int vlan_id = 0;     // vlan
    int mtu = 1500;
    std::string network;  // the site network it carries (untagged, or as this VLAN); ""
    // Its network's addresses; none on a bond member, a bridged device or a trunk parent.
    std::optional<site::Ipv4> address;
    int prefix = 0;
    std::string netmask;
    std::string gateway;  // on the one device that carries the IPv4 default route
    std::vector<std::string> dns;
    std::optional<site::Ipv6> address6;
    int prefix6 = 0;
    std::string gateway6;  // on the one device that carries the IPv6 default route
    bool bridged = false;  // the OVS bridge (br-ex) takes it over: up, no address

    // The connection's name (NetworkManager id, ifcfg-NAME): the device, or BOND-port-N for
    // a member known by MAC only.
    std::string id() const;
    bool has_address() const { return address || address6; }
};

// In the order they come up: for each NIC or bond the interfaces name (in site order), the
// bond's members, then the parent, then the VLANs on it; then bonds that carry nothing.
std::vector<NetDevice> node_network(const site::Site& site, const site::Node& node);

// ifcfg-ID (EL7; EL8 with network-scripts). `nm_controlled` is NetworkManager's say.
// InputError for a bond member named by MAC only: network-scripts find a device by name.
std::string ifcfg_text(const NetDevice& dev, bool nm_controlled);
// /etc/NetworkManager/system-connections/ID.nmconnection (0600).
std::string nm_keyfile_text(const NetDevice& dev);

// The kickstart's network commands for a node: one per NIC or bond (a bond with its members
// and options), with its untagged network's addresses or none. pykickstart takes one command
// per --device, so a trunk's VLANs cannot all be commands: every VLAN device is written by
// %post with the renderers above instead, as the image builder writes it (same files, same
// MTUs, whichever way the node was installed).
struct KickstartNetwork {
    // %pre shell that sets airstrap_nicN to the kernel name of each bond member named by MAC
    // (the install stops, naming the MAC, when no NIC has it); "" when every member has a name.
    std::string resolve;
    // The network commands, one a line; ${airstrap_nicN} where `resolve` finds a name (%pre
    // then writes them through an unquoted here-document). No other '$', '`' or '\\'.
    std::string lines;
    std::vector<NetDevice> vlans;  // for %post
};
KickstartNetwork kickstart_network(const site::Site& site, const site::Node& node);

}  // namespace airstrap::kickstart
