#include "site/validate_hardware.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "common/text.hpp"

namespace airstrap::site {

namespace {

std::string line_of(const SourceLocation& at) {
    return std::to_string(at.line);
}

class LinkValidator {
  public:
    LinkValidator(const Site& site, Diagnostics& diag) : site_(site), diag_(diag) {}

    void run() {
        check_networks();
        std::map<Ipv6, SourceLocation> addresses6;
        for (const Node& node : site_.nodes) {
            check_bonds(node);
            check_parents(node);
            for (const Interface& iface : node.interfaces) {
                check_address6(node, iface);
                if (iface.address6) {
                    auto [it, fresh] = addresses6.emplace(*iface.address6, iface.address6_at);
                    if (!fresh) {
                        diag_.error(iface.address6_at,
                                    "duplicate address " + iface.address6->str() +
                                        " (also on line " + line_of(it->second) + ")");
                    }
                }
            }
        }
    }

  private:
    void check_networks() {
        std::map<int, const Network*> vlans;
        for (std::size_t i = 0; i < site_.networks.size(); ++i) {
            const Network& net = site_.networks[i];
            if (net.gateway6 && !net.cidr6) {
                diag_.error(net.gateway6_at, "gateway6 needs the network's IPv6 prefix: set " +
                                                 net.name + ".cidr6 (such as fd00:20::/64)");
            } else if (net.gateway6) {
                if (!net.cidr6->contains(*net.gateway6)) {
                    diag_.error(net.gateway6_at, "gateway6 " + net.gateway6->str() +
                                                     " is outside " + net.name + " (" +
                                                     net.cidr6->str() + ")");
                } else if (net.cidr6->is_subnet_anycast(*net.gateway6)) {
                    diag_.error(net.gateway6_at, "gateway6 " + net.gateway6->str() +
                                                     " is the subnet-router anycast address of " +
                                                     net.cidr6->str() +
                                                     ", not a router's own address");
                }
            }
            for (std::size_t j = 0; j < i && net.cidr6; ++j) {
                const Network& other = site_.networks[j];
                if (other.cidr6 && net.cidr6->overlaps(*other.cidr6)) {
                    diag_.error(net.cidr6_at, "network " + net.name + " (" + net.cidr6->str() +
                                                  ") overlaps " + other.name + " (" +
                                                  other.cidr6->str() + ", line " +
                                                  line_of(other.cidr6_at) + ")");
                }
            }
            if (net.vlan) {
                auto [it, fresh] = vlans.emplace(net.vlan, &net);
                if (!fresh) {
                    diag_.error(net.vlan_at, "networks " + it->second->name + " (line " +
                                                 line_of(it->second->vlan_at) + ") and " +
                                                 net.name + " both use VLAN " +
                                                 std::to_string(net.vlan) +
                                                 "; a VLAN id names one network of the site");
                }
            }
        }
    }

    // The largest MTU among the networks `parent` carries on `node`.
    int carried_mtu(const Node& node, const std::string& parent) const {
        int mtu = 0;
        for (const Interface& i : node.interfaces) {
            const Network* net = site_.network(i.network);
            if (i.name == parent && net) mtu = std::max(mtu, net->mtu);
        }
        return mtu;
    }

    void check_bonds(const Node& node) {
        std::map<std::string, const Bond*> names;
        std::map<std::string, std::pair<const Bond*, SourceLocation>> member_names;
        for (const Bond& b : node.bonds) {
            if (b.name.empty()) continue;
            if (auto [it, fresh] = names.emplace(b.name, &b); !fresh) {
                diag_.error(b.name_at, "node " + node.name + " has two bonds named " + b.name +
                                           " (also on line " + line_of(it->second->name_at) + ")");
                continue;
            }
            if (b.members.size() < 2) {
                if (b.mode == BondMode::lacp || b.mode == BondMode::balance_xor ||
                    b.mode == BondMode::balance_rr) {
                    diag_.error(b.members_at.line ? b.members_at : b.where,
                                "bond " + b.name + " of node " + node.name + " in mode " +
                                    to_string(b.mode) +
                                    " needs two or more members (it spreads traffic over "
                                    "them); it has " +
                                    std::to_string(b.members.size()));
                } else if (!b.members.empty()) {
                    diag_.warning(b.members_at, "bond " + b.name + " of node " + node.name +
                                                    " has one member: no link redundancy");
                }
            }
            if (!b.lacp_rate.empty() && b.mode != BondMode::lacp) {
                diag_.error(b.lacp_rate_at, "lacp_rate is an 802.3ad (LACP) setting; bond " +
                                                b.name + " is " + to_string(b.mode));
            }
            if (!b.xmit_hash_policy.empty() && b.mode != BondMode::lacp &&
                b.mode != BondMode::balance_xor && b.mode != BondMode::balance_tlb) {
                diag_.error(b.xmit_hash_policy_at,
                            "xmit_hash_policy applies to 802.3ad, balance-xor and balance-tlb "
                            "bonds; bond " +
                                b.name + " is " + to_string(b.mode));
            }
            if (b.mtu) {
                int needed = carried_mtu(node, b.name);
                if (needed > b.mtu) {
                    diag_.error(b.mtu_at, "bond " + b.name + " has MTU " + std::to_string(b.mtu) +
                                              " but carries a network with MTU " +
                                              std::to_string(needed) +
                                              "; raise the bond's MTU or leave it out (it "
                                              "follows its networks)");
                }
            }
            for (const BondMember& m : b.members) {
                if (m.name.empty()) continue;
                if (m.name == b.name || names.contains(m.name)) {
                    diag_.error(m.where, "bond " + b.name + " lists " + m.name +
                                             ", a bond, as a member; members are NICs");
                    continue;
                }
                auto [it, fresh] = member_names.emplace(m.name, std::pair{&b, m.where});
                if (!fresh) {
                    diag_.error(m.where, "NIC " + m.name + " is a member of bond " +
                                             it->second.first->name + " already (line " +
                                             line_of(it->second.second) +
                                             "); a NIC belongs to one bond");
                }
            }
        }
        // A MAC in two bonds of the node is a duplicate MAC, which check_nodes reports.
        for (const Interface& iface : node.interfaces) {
            auto member = member_names.find(iface.name);
            if (member != member_names.end()) {
                diag_.error(iface.name_at, iface.name + " is a member of bond " +
                                               member->second.first->name +
                                               "; attach the network to " +
                                               member->second.first->name + " instead");
            }
            if (node.bond(iface.name) && !iface.mac.empty()) {
                diag_.error(iface.mac_at, iface.name +
                                              " is a bond: its members have the MACs (list them "
                                              "under bonds[].members)");
            }
        }
        for (const Bond& b : node.bonds) {
            bool used = std::any_of(node.interfaces.begin(), node.interfaces.end(),
                                    [&](const Interface& i) { return i.name == b.name; });
            if (!used && !b.name.empty()) {
                diag_.warning(b.name_at, "bond " + b.name + " of node " + node.name +
                                             " carries no network; attach one in interfaces "
                                             "(name: " +
                                             b.name + ")");
            }
        }
    }

    // Per parent (NIC or bond): one untagged network at most, each VLAN once, one MAC, and
    // each network reached once per node.
    void check_parents(const Node& node) {
        struct Parent {
            const Interface* untagged = nullptr;
            std::map<int, const Interface*> vlans;
            const Interface* mac_from = nullptr;
        };
        std::map<std::string, Parent> parents;
        std::map<std::string, const Interface*> networks;
        for (const Interface& iface : node.interfaces) {
            if (iface.name.empty() || iface.network.empty()) continue;
            if (auto [it, fresh] = networks.emplace(iface.network, &iface); !fresh) {
                diag_.error(iface.network_at, "node " + node.name + " is attached to network " +
                                                  iface.network + " twice (also on line " +
                                                  line_of(it->second->network_at) + ")");
                continue;
            }
            const Network* net = site_.network(iface.network);
            if (!net) continue;  // reported by check_interface
            Parent& p = parents[iface.name];
            if (!iface.mac.empty()) {
                if (p.mac_from && p.mac_from->mac != iface.mac) {
                    diag_.error(iface.mac_at, iface.name + " has MAC " + p.mac_from->mac +
                                                  " on line " + line_of(p.mac_from->mac_at) +
                                                  "; one NIC has one MAC");
                }
                if (!p.mac_from) p.mac_from = &iface;
            }
            if (net->vlan == 0) {
                if (p.untagged) {
                    diag_.error(iface.network_at,
                                iface.name + " of node " + node.name + " carries " +
                                    p.untagged->network + " untagged already (line " +
                                    line_of(p.untagged->network_at) +
                                    "); a NIC or bond carries "
                                    "one untagged network: give " +
                                    net->name + " a vlan, or attach it to another NIC");
                } else {
                    p.untagged = &iface;
                }
                continue;
            }
            std::string device = iface.name + "." + std::to_string(net->vlan);
            if (device.size() > 15) {
                diag_.error(iface.name_at, "the VLAN device " + device +
                                               " would be longer than the kernel's 15 "
                                               "characters; use a shorter NIC or bond name");
            }
            if (iface.name.find('.') != std::string::npos) {
                diag_.error(iface.name_at,
                            iface.name + " looks like a VLAN device; name its parent (" +
                                iface.name.substr(0, iface.name.find('.')) + "): network " +
                                net->name + " has vlan " + std::to_string(net->vlan) +
                                " and airstrap adds the tag itself");
            }
            p.vlans.emplace(net->vlan, &iface);
        }
    }

    void check_address6(const Node& node, const Interface& iface) {
        if (!iface.address6) return;
        const Network* net = site_.network(iface.network);
        if (!net) return;
        const Ipv6& a = *iface.address6;
        if (!net->cidr6) {
            diag_.error(iface.address6_at, "network " + net->name +
                                               " has no IPv6 prefix; set its cidr6 (such as "
                                               "fd00:20::/64) or leave address6 out");
        } else if (!net->cidr6->contains(a)) {
            diag_.error(iface.address6_at, a.str() + " is outside network " + net->name + " (" +
                                               net->cidr6->str() + ")");
        } else if (net->cidr6->is_subnet_anycast(a)) {
            diag_.error(iface.address6_at, a.str() + " is the subnet-router anycast address of " +
                                               net->cidr6->str() + ", not a host address");
        } else if (net->gateway6 && a == *net->gateway6) {
            diag_.error(iface.address6_at, a.str() + " is the gateway of " + net->name + "; node " +
                                               node.name + " needs its own address");
        }
        if (!iface.bridge.empty()) {
            diag_.error(iface.address6_at, "interface " + iface.name + " of node " + node.name +
                                               " is taken over by bridge " + iface.bridge +
                                               ", which holds no address airstrap sets; leave "
                                               "address6 out");
        }
    }

    const Site& site_;
    Diagnostics& diag_;
};

// `who` names the node ("node ctl1") or the role's layout ("disk_layouts.compute").
void check_disks(const Disks& d, const std::string& who, Role role, SourceLocation fallback,
                 Diagnostics& diag) {
    SourceLocation at = d.where.line ? d.where : fallback;
    std::string whose = who.starts_with("node ") ? who + " is a " + to_string(role) + " node"
                                                 : who + " is for " + to_string(role) + " nodes";
    std::size_t want = d.layout == SystemLayout::raid1 ? 2 : 1;
    if (d.system.size() != want) {
        diag.error(d.layout_at.line ? d.layout_at : at,
                   who + ": layout " + (d.layout == SystemLayout::raid1 ? "raid1" : "single") +
                       " needs " + std::to_string(want) + " system disk" + (want == 1 ? "" : "s") +
                       ", and disks.system lists " + std::to_string(d.system.size()) +
                       (d.layout == SystemLayout::single && d.system.size() == 2
                            ? " (for a mirror set layout: raid1)"
                            : ""));
    }
    // The same disk named twice (by the same name: matches by size or model may pick
    // different disks of one kind, which is how a mirror of two like disks is written).
    std::map<std::string, std::pair<SourceLocation, std::string>> named;
    auto note = [&](const DiskSelector& s, const std::string& use) {
        if (s.device.empty()) return;
        auto [it, fresh] = named.emplace(s.device, std::pair{s.where, use});
        if (fresh) return;
        if (it->second.second == "system" && use != "system") {
            diag.error(s.where, who + ": the " + use + " data volume is on " + s.device +
                                    ", a system disk (line " + line_of(it->second.first) +
                                    "); a data volume needs a disk of its own");
        } else {
            diag.error(s.where, who + " names disk " + s.device + " twice (also on line " +
                                    line_of(it->second.first) + ")");
        }
    };
    for (const auto& s : d.system) note(s, "system");
    std::set<DiskUse> uses;
    for (const DataVolume& v : d.data) {
        note(v.disk, to_string(v.use));
        if (!uses.insert(v.use).second) {
            diag.error(v.use_at, who + " has two " + to_string(v.use) +
                                     " data volumes; give each use one disk");
        }
        if (v.use == DiskUse::cinder_volumes && role != Role::controller) {
            diag.error(v.use_at, whose +
                                     "; cinder-volumes belongs on the controller, where "
                                     "Packstack runs Cinder's volume service");
        }
        if (v.use == DiskUse::nova_instances && role != Role::compute) {
            diag.error(v.use_at, whose +
                                     "; nova-instances belongs on compute nodes, where "
                                     "Nova keeps its instances' disks");
        }
    }
}

}  // namespace

void validate_links(const Site& site, Diagnostics& diag) {
    LinkValidator(site, diag).run();
}

void validate_disks(const Site& site, Diagnostics& diag) {
    // A role's layout once, not once per node that takes it.
    for (const auto& [role, disks] : site.disk_layouts)
        check_disks(disks, std::string("disk_layouts.") + to_string(role), role, disks.where, diag);
    for (const Node& node : site.nodes) {
        if (!node.disks.from_role)
            check_disks(node.disks, "node " + node.name, node.role, node.where, diag);
    }
}

}  // namespace airstrap::site
