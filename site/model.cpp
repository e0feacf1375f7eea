#include "site/model.hpp"

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

const Interface* Node::interface_on(const std::string& network) const {
    for (const auto& i : interfaces) {
        if (i.network == network) return &i;
    }
    return nullptr;
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
