#include "kickstart/network.hpp"

#include <algorithm>

#include "common/error.hpp"
#include "common/text.hpp"

namespace airstrap::kickstart {

namespace {

using site::Interface;
using site::Network;

// Fills `dev` with `iface`'s network and, unless a bridge takes it over, its addresses.
void attach(NetDevice& dev, const site::Site& site, const Interface& iface, const Interface* route4,
            const Interface* route6) {
    const Network* net = site.network(iface.network);
    dev.network = iface.network;
    dev.bridged = !iface.bridge.empty() || (!iface.address && !iface.address6);
    if (dev.bridged || !net) return;
    if (iface.address) {
        dev.address = iface.address;
        dev.prefix = net->cidr.prefix;
        dev.netmask = net->cidr.netmask().str();
        if (&iface == route4 && net->gateway) dev.gateway = net->gateway->str();
        for (const auto& d : net->dns) dev.dns.push_back(d.str());
    }
    if (iface.address6 && net->cidr6) {
        dev.address6 = iface.address6;
        dev.prefix6 = net->cidr6->prefix;
        if (&iface == route6 && net->gateway6) dev.gateway6 = net->gateway6->str();
    }
}

// The interface that carries a default route: the management network's when it has a
// gateway, else the first with one (and an address, not bridged).
const Interface* default_route(const site::Site& site, const site::Node& node, bool v6) {
    auto usable = [&](const Interface& i) {
        const Network* net = site.network(i.network);
        if (!net || !i.bridge.empty()) return false;
        return v6 ? net->gateway6 && i.address6 && net->cidr6 : net->gateway && i.address;
    };
    if (const Network* mgmt = site.management_network()) {
        const Interface* m = node.interface_on(mgmt->name);
        if (m && usable(*m)) return m;
    }
    for (const auto& i : node.interfaces) {
        if (usable(i)) return &i;
    }
    return nullptr;
}

std::string join_options(const std::vector<std::pair<std::string, std::string>>& options,
                         const std::string& separator) {
    std::string out;
    for (const auto& [k, v] : options) out += (out.empty() ? "" : separator) + k + "=" + v;
    return out;
}

}  // namespace

std::string NetDevice::id() const {
    if (!bond.empty()) return bond + "-port" + std::to_string(port);
    return device;
}

std::vector<NetDevice> node_network(const site::Site& site, const site::Node& node) {
    const Interface* route4 = default_route(site, node, false);
    const Interface* route6 = default_route(site, node, true);
    std::vector<std::string> parents;
    for (const auto& i : node.interfaces) {
        if (std::find(parents.begin(), parents.end(), i.name) == parents.end())
            parents.push_back(i.name);
    }
    for (const auto& b : node.bonds) {
        if (std::find(parents.begin(), parents.end(), b.name) == parents.end())
            parents.push_back(b.name);
    }
    std::vector<NetDevice> out;
    for (const std::string& parent : parents) {
        const site::Bond* bond = node.bond(parent);
        int mtu = 0;
        for (const auto& i : node.interfaces) {
            const Network* net = site.network(i.network);
            if (i.name == parent && net) mtu = std::max(mtu, net->mtu);
        }
        if (bond && bond->mtu) mtu = bond->mtu;
        if (mtu == 0) mtu = 1500;
        NetDevice dev;
        dev.device = parent;
        dev.mtu = mtu;
        if (bond) {
            int port = 0;
            for (const auto& m : bond->members) {
                NetDevice member;
                member.device = m.name;
                member.mac = m.mac;
                member.bond = bond->name;
                member.port = ++port;
                member.mtu = mtu;
                out.push_back(std::move(member));
            }
            dev.kind = NetDevice::Kind::bond;
            dev.bond_options = bond->options();
            dev.members = bond->members;
        } else {
            for (const auto& i : node.interfaces) {
                if (i.name == parent && dev.mac.empty()) dev.mac = i.mac;
            }
        }
        std::vector<NetDevice> vlans;
        bool untagged = false;
        for (const auto& i : node.interfaces) {
            const Network* net = site.network(i.network);
            if (i.name != parent || !net) continue;
            if (net->vlan == 0) {
                attach(dev, site, i, route4, route6);
                untagged = true;
                continue;
            }
            NetDevice vlan;
            vlan.kind = NetDevice::Kind::vlan;
            vlan.device = site.device_of(i);
            vlan.parent = parent;
            vlan.vlan_id = net->vlan;
            vlan.mtu = net->mtu;
            attach(vlan, site, i, route4, route6);
            vlans.push_back(std::move(vlan));
        }
        // A trunk (VLANs only) or an unused bond: up, without an address.
        if (!untagged) dev.bridged = true;
        out.push_back(std::move(dev));
        for (auto& v : vlans) out.push_back(std::move(v));
    }
    return out;
}

std::string ifcfg_text(const NetDevice& dev, bool nm_controlled) {
    if (dev.device.empty()) {
        throw InputError("network-scripts find a NIC by its name: give bond " + dev.bond +
                         "'s member " + dev.mac +
                         " a name too (members: [{name: ens1f0, mac: " + dev.mac + "}, …])");
    }
    std::string out = "# Written by airstrap\nDEVICE=" + dev.device + "\nNAME=" + dev.id() + "\n";
    switch (dev.kind) {
        case NetDevice::Kind::ethernet:
            out += "TYPE=Ethernet\n";
            break;
        case NetDevice::Kind::bond:
            out += "TYPE=Bond\nBONDING_MASTER=yes\nBONDING_OPTS=\"" +
                   join_options(dev.bond_options, " ") + "\"\n";
            break;
        case NetDevice::Kind::vlan:
            out += "TYPE=Vlan\nVLAN=yes\nPHYSDEV=" + dev.parent +
                   "\nVLAN_ID=" + std::to_string(dev.vlan_id) + "\n";
            break;
    }
    out += "ONBOOT=yes\nBOOTPROTO=none\n";
    if (!dev.mac.empty()) out += "HWADDR=" + dev.mac + "\n";
    if (!dev.bond.empty()) {
        out += "MASTER=" + dev.bond + "\nSLAVE=yes\nMTU=" + std::to_string(dev.mtu) +
               "\nNM_CONTROLLED=" + (nm_controlled ? "yes" : "no") + "\n";
        return out;
    }
    if (dev.address) {
        out += "IPADDR=" + dev.address->str() + "\nPREFIX=" + std::to_string(dev.prefix) + "\n";
        if (!dev.gateway.empty()) {
            out += "GATEWAY=" + dev.gateway + "\nDEFROUTE=yes\n";
        } else {
            out += "DEFROUTE=no\n";
        }
        for (std::size_t i = 0; i < dev.dns.size(); ++i)
            out += "DNS" + std::to_string(i + 1) + "=" + dev.dns[i] + "\n";
    }
    if (dev.address6) {
        out += "IPV6INIT=yes\nIPV6_AUTOCONF=no\nIPV6ADDR=" + dev.address6->str() + "/" +
               std::to_string(dev.prefix6) + "\n";
        if (!dev.gateway6.empty()) {
            out += "IPV6_DEFAULTGW=" + dev.gateway6 + "\nIPV6_DEFROUTE=yes\n";
        } else {
            out += "IPV6_DEFROUTE=no\n";
        }
    } else {
        out += "IPV6INIT=no\n";
    }
    out += "MTU=" + std::to_string(dev.mtu) + "\n";
    out += std::string("NM_CONTROLLED=") + (nm_controlled ? "yes" : "no") + "\n";
    return out;
}

std::string nm_keyfile_text(const NetDevice& dev) {
    static const char* const types[] = {"ethernet", "bond", "vlan"};
    std::string out = "# Written by airstrap\n[connection]\nid=" + dev.id() +
                      "\ntype=" + types[static_cast<int>(dev.kind)] + "\n";
    if (!dev.device.empty()) out += "interface-name=" + dev.device + "\n";
    if (!dev.bond.empty()) out += "master=" + dev.bond + "\nslave-type=bond\n";
    out += "autoconnect=true\n\n[ethernet]\n";
    if (!dev.mac.empty()) out += "mac-address=" + text::to_lower(dev.mac) + "\n";
    out += "mtu=" + std::to_string(dev.mtu) + "\n";
    if (dev.kind == NetDevice::Kind::bond) {
        out += "\n[bond]\n";
        for (const auto& [k, v] : dev.bond_options) out += k + "=" + v + "\n";
    } else if (dev.kind == NetDevice::Kind::vlan) {
        out += "\n[vlan]\nid=" + std::to_string(dev.vlan_id) + "\nparent=" + dev.parent + "\n";
    }
    if (!dev.bond.empty()) return out;  // a port has no IP configuration of its own
    out += "\n[ipv4]\n";
    if (dev.address) {
        out += "method=manual\naddress1=" + dev.address->str() + "/" + std::to_string(dev.prefix);
        if (!dev.gateway.empty()) out += "," + dev.gateway;
        out += "\n";
        if (!dev.dns.empty()) out += "dns=" + text::join(dev.dns, ";") + ";\n";
        if (dev.gateway.empty()) out += "never-default=true\n";
    } else {
        out += "method=disabled\n";
    }
    out += "\n[ipv6]\n";
    if (dev.address6) {
        out += "method=manual\naddress1=" + dev.address6->str() + "/" + std::to_string(dev.prefix6);
        if (!dev.gateway6.empty()) out += "," + dev.gateway6;
        out += "\n";
        if (dev.gateway6.empty()) out += "never-default=true\n";
    } else {
        out += "method=disabled\n";
    }
    return out;
}

KickstartNetwork kickstart_network(const site::Site& site, const site::Node& node) {
    KickstartNetwork ks;
    int resolved = 0;
    for (const NetDevice& dev : node_network(site, node)) {
        if (dev.kind == NetDevice::Kind::vlan) {
            ks.vlans.push_back(dev);
            continue;
        }
        if (!dev.bond.empty()) continue;  // in its bond's command
        std::string line = "network --device=";
        if (dev.kind == NetDevice::Kind::bond) {
            std::vector<std::string> slaves;
            for (const auto& m : dev.members) {
                if (!m.name.empty()) {
                    slaves.push_back(m.name);
                    continue;
                }
                std::string var = "airstrap_nic" + std::to_string(++resolved);
                ks.resolve += var + "=$(airstrap_nic_named " + m.mac + ") || exit 1\n";
                slaves.push_back("${" + var + "}");
            }
            line += dev.device + " --bondslaves=" + text::join(slaves, ",") +
                    " --bondopts=" + join_options(dev.bond_options, ",");
        } else {
            line += dev.mac.empty() ? dev.device : dev.mac;
        }
        line += " --onboot=yes";
        if (!dev.has_address()) {
            // A trunk, or the NIC the OVS bridge (e.g. br-ex) takes over with the address.
            line += " --bootproto=static --noipv4 --noipv6";
        } else {
            line += " --bootproto=static";
            if (dev.address) {
                line += " --ip=" + dev.address->str() + " --netmask=" + dev.netmask;
                line += dev.gateway.empty() ? " --nodefroute" : " --gateway=" + dev.gateway;
                if (!dev.dns.empty()) line += " --nameserver=" + text::join(dev.dns, ",");
            } else {
                line += " --noipv4";
            }
            if (dev.address6) {
                line += " --ipv6=" + dev.address6->str() + "/" + std::to_string(dev.prefix6);
                if (!dev.gateway6.empty()) line += " --ipv6gateway=" + dev.gateway6;
            } else {
                line += " --noipv6";
            }
            line += " --activate";
        }
        ks.lines += line + " --mtu=" + std::to_string(dev.mtu) + "\n";
    }
    if (!ks.resolve.empty()) {
        // A bond member's MAC is its permanent one: enslaved, it takes the bond's.
        ks.resolve =
            "airstrap_nic_named() {\n"
            "    for d in /sys/class/net/*; do\n"
            "        a=$(cat \"$d/bonding_slave/perm_hwaddr\" 2>/dev/null || cat \"$d/address\")\n"
            "        [ \"$a\" = \"$1\" ] && { echo \"${d##*/}\"; return 0; }\n"
            "    done\n"
            "    echo \"airstrap: no NIC of this machine has the MAC $1 (a member of a bond of "
            "$node)\" | tee /dev/console >&2\n"
            "    return 1\n"
            "}\n" +
            ks.resolve;
    }
    return ks;
}

}  // namespace airstrap::kickstart
