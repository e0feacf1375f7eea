#include "site/model.hpp"

#include <algorithm>

namespace airstrap::site {

const char* to_string(Distro d) {
    switch (d) {
        case Distro::el7:
            return "el7";
        case Distro::el8:
            return "el8";
        case Distro::el9:
            return "el9";
    }
    return "?";
}

const char* to_string(Selinux s) {
    switch (s) {
        case Selinux::disabled:
            return "disabled";
        case Selinux::permissive:
            return "permissive";
        case Selinux::enforcing:
            return "enforcing";
    }
    return "?";
}

const char* to_string(L2Agent a) {
    return a == L2Agent::ovn ? "ovn" : "openvswitch";
}

const char* to_string(NetworkPurpose p) {
    switch (p) {
        case NetworkPurpose::management:
            return "management";
        case NetworkPurpose::external:
            return "external";
        case NetworkPurpose::tenant:
            return "tenant";
        case NetworkPurpose::storage:
            return "storage";
    }
    return "?";
}

const char* to_string(BondMode m) {
    switch (m) {
        case BondMode::balance_rr:
            return "balance-rr";
        case BondMode::active_backup:
            return "active-backup";
        case BondMode::balance_xor:
            return "balance-xor";
        case BondMode::broadcast:
            return "broadcast";
        case BondMode::lacp:
            return "802.3ad";
        case BondMode::balance_tlb:
            return "balance-tlb";
        case BondMode::balance_alb:
            return "balance-alb";
    }
    return "?";
}

std::vector<std::pair<std::string, std::string>> Bond::options() const {
    std::vector<std::pair<std::string, std::string>> out = {{"mode", to_string(mode)},
                                                            {"miimon", std::to_string(miimon)}};
    if (!lacp_rate.empty()) out.emplace_back("lacp_rate", lacp_rate);
    if (!xmit_hash_policy.empty()) out.emplace_back("xmit_hash_policy", xmit_hash_policy);
    return out;
}

const char* to_string(DiskUse u) {
    return u == DiskUse::cinder_volumes ? "cinder-volumes" : "nova-instances";
}

const DataVolume* Disks::data_for(DiskUse use) const {
    for (const auto& d : data) {
        if (d.use == use) return &d;
    }
    return nullptr;
}

const Bond* Node::bond(const std::string& n) const {
    for (const auto& b : bonds) {
        if (b.name == n) return &b;
    }
    return nullptr;
}

std::vector<Nic> Node::nics() const {
    std::vector<Nic> out;
    std::vector<std::string> seen;  // parents (NIC or bond names) already listed
    auto add_bond = [&](const Bond& b) {
        seen.push_back(b.name);
        for (const auto& m : b.members) out.push_back({m.name, m.mac, b.name, m.where});
    };
    for (const auto& i : interfaces) {
        if (std::find(seen.begin(), seen.end(), i.name) != seen.end()) {
            // A NIC named again (another VLAN on it) may give its MAC only there.
            for (auto& n : out) {
                if (n.bond.empty() && n.name == i.name && n.mac.empty() && !i.mac.empty()) {
                    n.mac = i.mac;
                    n.where = i.mac_at;
                }
            }
            continue;
        }
        if (const Bond* b = bond(i.name)) {
            add_bond(*b);
        } else {
            seen.push_back(i.name);
            out.push_back({i.name, i.mac, "", i.mac.empty() ? i.where : i.mac_at});
        }
    }
    for (const auto& b : bonds) {
        if (std::find(seen.begin(), seen.end(), b.name) == seen.end()) add_bond(b);
    }
    return out;
}

std::vector<std::string> Node::macs() const {
    std::vector<std::string> out;
    for (const auto& n : nics()) {
        if (!n.mac.empty()) out.push_back(n.mac);
    }
    return out;
}

const Interface* Node::interface_on(const std::string& network) const {
    for (const auto& i : interfaces) {
        if (i.network == network) return &i;
    }
    return nullptr;
}

std::string Site::device_of(const Interface& iface) const {
    const Network* net = network(iface.network);
    if (!net || net->vlan == 0) return iface.name;
    return iface.name + "." + std::to_string(net->vlan);
}

const Network* Site::network(const std::string& n) const {
    for (const auto& net : networks) {
        if (net.name == n) return &net;
    }
    return nullptr;
}

const Network* Site::management_network() const {
    for (const auto& net : networks) {
        if (net.purpose == NetworkPurpose::management) return &net;
    }
    return nullptr;
}

const Node* Site::controller() const {
    for (const auto& n : nodes) {
        if (n.role == Role::controller) return &n;
    }
    return nullptr;
}

std::vector<const Node*> Site::nodes_with_role(Role role) const {
    std::vector<const Node*> out;
    for (const auto& n : nodes) {
        if (n.role == role) out.push_back(&n);
    }
    return out;
}

std::optional<Ipv4> Site::management_address(const Node& node) const {
    const Network* mgmt = management_network();
    if (!mgmt) return std::nullopt;
    const Interface* i = node.interface_on(mgmt->name);
    return i ? i->address : std::nullopt;
}

std::string CloudImage::file() const {
    return "images/" + std::filesystem::path(source).filename().string();
}

std::string default_member_role(std::string_view release) {
    // Keystone made "member" (with "_member_" implied) the default role in Rocky's
    // bootstrap, and Packstack switched to it in Stein.
    return release == "queens" || release == "rocky" ? "_member_" : "member";
}

}  // namespace airstrap::site
