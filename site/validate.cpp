#include "site/validate.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "common/text.hpp"
#include "site/packstack_params.hpp"
#include "site/syntax.hpp"
#include "site/validate_cloud.hpp"
#include "site/validate_hardware.hpp"

namespace airstrap::site {

const ManagedAnswer managed_answers[] = {
    {"CONFIG_CONTROLLER_HOST", "the node with role controller"},
    {"CONFIG_COMPUTE_HOSTS", "the nodes with role compute"},
    {"CONFIG_NETWORK_HOSTS", "the nodes with role network"},
    {"CONFIG_DEFAULT_PASSWORD", "secrets.yaml passwords.default"},
    {"CONFIG_KEYSTONE_ADMIN_PW", "secrets.yaml passwords.keystone_admin"},
    {"CONFIG_CINDER_VOLUMES_SIZE", "openstack.cinder_volumes_size"},
    {"CONFIG_CINDER_VOLUMES_CREATE", "the controller's cinder-volumes data disk (disks.data)"},
    {"CONFIG_NEUTRON_L2_AGENT", "openstack.l2_agent"},
    {"CONFIG_NEUTRON_OVS_BRIDGE_MAPPINGS", "the bridge of the network node's external interface"},
    {"CONFIG_NEUTRON_OVS_BRIDGE_IFACES", "the bridge of the network node's external interface"},
    {"CONFIG_NEUTRON_OVN_BRIDGE_MAPPINGS", "the bridge of the network node's external interface"},
    {"CONFIG_NEUTRON_OVN_BRIDGE_IFACES", "the bridge of the network node's external interface"},
    {"CONFIG_NTP_SERVERS", "time.upstream (airstrap-firstboot owns chrony)"},
    {nullptr, nullptr},
};

namespace {

// RDO built each release for these distros; anything else is a warning, not an error,
// since a site may carry its own rebuilds.
bool release_built_for(std::string_view release, Distro distro) {
    static const std::map<std::string_view, std::set<Distro>> built = {
        {"queens", {Distro::el7}},
        {"rocky", {Distro::el7}},
        {"stein", {Distro::el7}},
        {"train", {Distro::el7, Distro::el8}},
        {"ussuri", {Distro::el8}},
        {"victoria", {Distro::el8}},
        {"wallaby", {Distro::el8, Distro::el9}},
        {"xena", {Distro::el8, Distro::el9}},
        {"yoga", {Distro::el8, Distro::el9}},
        {"zed", {Distro::el9}},
        {"2023.1", {Distro::el9}},
        {"2023.2", {Distro::el9}},
        {"2024.1", {Distro::el9}},
        {"2024.2", {Distro::el9}},
        {"2025.1", {Distro::el9}},
        {"master", {Distro::el9}},
    };
    auto it = built.find(release);
    return it == built.end() || it->second.contains(distro);
}

class Validator {
  public:
    Validator(const Site& site, Diagnostics& diag) : site_(site), diag_(diag) {}

    void run() {
        check_site();
        check_networks();
        check_nodes();
        validate_links(site_, diag_);
        validate_disks(site_, diag_);
        check_roles();
        check_distro_rules();
        check_packages();
        check_openstack();
        validate_cloud(site_, diag_);
    }

  private:
    void check_site() {
        if (!is_timezone_name(site_.timezone)) {
            diag_.error(site_.timezone_at,
                        "'" + site_.timezone + "' is not a time zone name such as Asia/Shanghai");
            return;
        }
        // The build host's tz database names the same zones as the nodes'; without one,
        // the name is left to the installer.
        const std::filesystem::path zoneinfo = "/usr/share/zoneinfo";
        std::error_code ec;
        if (!std::filesystem::is_directory(zoneinfo, ec)) return;
        if (std::filesystem::is_regular_file(zoneinfo / site_.timezone, ec)) return;
        std::vector<std::string> zones;
        for (auto it = std::filesystem::recursive_directory_iterator(zoneinfo, ec);
             !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
            if (it->is_regular_file()) {
                zones.push_back(it->path().lexically_relative(zoneinfo).string());
            }
        }
        std::sort(zones.begin(), zones.end());
        std::string message = "unknown time zone '" + site_.timezone + "'";
        if (auto near = text::closest(site_.timezone, zones)) {
            message += " (did you mean '" + *near + "'?)";
        }
        diag_.error(site_.timezone_at, message);
    }

    void check_networks() {
        int management = 0;
        for (std::size_t i = 0; i < site_.networks.size(); ++i) {
            const Network& net = site_.networks[i];
            if (net.purpose == NetworkPurpose::management) ++management;
            if (net.gateway) {
                if (!net.cidr.contains(*net.gateway)) {
                    diag_.error(net.gateway_at, "gateway " + net.gateway->str() + " is outside " +
                                                    net.name + " (" + net.cidr.str() + ")");
                } else if (*net.gateway == net.cidr.base || *net.gateway == net.cidr.broadcast()) {
                    diag_.error(net.gateway_at,
                                "gateway " + net.gateway->str() + " is the " +
                                    (*net.gateway == net.cidr.base ? "network" : "broadcast") +
                                    " address of " + net.cidr.str());
                }
            }
            for (std::size_t j = 0; j < i; ++j) {
                const Network& other = site_.networks[j];
                if (net.cidr_at.line && other.cidr_at.line && net.cidr.overlaps(other.cidr)) {
                    diag_.error(net.cidr_at, "network " + net.name + " (" + net.cidr.str() +
                                                 ") overlaps " + other.name + " (" +
                                                 other.cidr.str() + ", line " +
                                                 std::to_string(other.cidr_at.line) + ")");
                }
            }
        }
        if (site_.networks.empty()) return;  // 'networks' missing was reported by the parser
        if (management != 1) {
            diag_.error(site_.networks.front().where,
                        management == 0
                            ? "no network has purpose 'management'; exactly one must (the nodes "
                              "reach each other, chrony and Packstack over it)"
                            : "more than one network has purpose 'management'; exactly one must");
        }
    }

    void check_nodes() {
        std::map<std::string, const Node*> names;
        std::map<std::uint32_t, const Interface*> addresses;
        std::map<std::string, SourceLocation> macs;
        const Network* mgmt = site_.management_network();
        for (const Node& node : site_.nodes) {
            if (!node.name.empty()) {
                std::string lower = node.name;
                std::transform(lower.begin(), lower.end(), lower.begin(),
                               [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
                auto [it, fresh] = names.emplace(lower, &node);
                if (!fresh) {
                    diag_.error(node.name_at, "duplicate node name '" + node.name +
                                                  "' (also on line " +
                                                  std::to_string(it->second->name_at.line) +
                                                  "; host names ignore case)");
                }
            }
            std::set<std::string> bridges;
            for (const Nic& nic : node.nics()) {
                if (nic.mac.empty()) continue;
                auto [it, fresh] = macs.emplace(nic.mac, nic.where);
                if (!fresh) {
                    diag_.error(nic.where, "duplicate MAC address " + nic.mac + " (also on line " +
                                               std::to_string(it->second.line) + ")");
                }
            }
            for (const Interface& iface : node.interfaces) {
                if (!iface.bridge.empty() && !bridges.insert(iface.bridge).second) {
                    diag_.error(iface.where, "node " + node.name +
                                                 " puts two interfaces on bridge " + iface.bridge);
                }
                check_interface(node, iface);
                if (iface.address) {
                    auto [it, fresh] = addresses.emplace(iface.address->value, &iface);
                    if (!fresh) {
                        diag_.error(iface.address_at,
                                    "duplicate address " + iface.address->str() +
                                        " (also on line " +
                                        std::to_string(it->second->address_at.line) + ")");
                    }
                }
            }
            bool networks_known = std::all_of(
                node.interfaces.begin(), node.interfaces.end(),
                [&](const Interface& i) { return i.network.empty() || site_.network(i.network); });
            if (mgmt && !node.interfaces.empty() && networks_known) {
                const Interface* m = node.interface_on(mgmt->name);
                if (!m) {
                    diag_.error(node.where, "node " + node.name +
                                                " has no interface on the "
                                                "management network '" +
                                                mgmt->name + "'");
                } else if (!m->address) {
                    diag_.error(m->where, "node " + node.name +
                                              " needs a static address on the "
                                              "management network '" +
                                              mgmt->name + "'");
                }
            }
            if (node.macs().empty() && !node.interfaces.empty()) {
                diag_.warning(node.name_at,
                              "node " + node.name +
                                  " has no MAC address: the "
                                  "installer cannot recognise it, so it must be picked "
                                  "from the boot menu (airstrap.node=" +
                                  node.name + ")");
            }
        }
    }

    void check_interface(const Node& node, const Interface& iface) {
        if (iface.network.empty()) return;
        const Network* net = site_.network(iface.network);
        if (!net) {
            std::vector<std::string> known;
            for (const auto& n : site_.networks) known.push_back(n.name);
            std::string message = "unknown network '" + iface.network + "'";
            if (auto near = text::closest(iface.network, known)) {
                message += " (did you mean '" + *near + "'?)";
            } else if (!known.empty()) {
                message += "; networks are: " + text::join(known, ", ");
            }
            diag_.error(iface.network_at, message);
            return;
        }
        if (!iface.address) {
            // Only an external NIC may come up without an address (its bridge may take one).
            if (net->purpose != NetworkPurpose::external &&
                net->purpose != NetworkPurpose::management) {
                diag_.error(iface.where, "interface " + iface.name + " of node " + node.name +
                                             " needs an address on " + to_string(net->purpose) +
                                             " network '" + net->name + "'");
            }
            return;
        }
        Ipv4 a = *iface.address;
        if (!net->cidr.contains(a)) {
            diag_.error(iface.address_at, a.str() + " is outside network " + net->name + " (" +
                                              net->cidr.str() + ")");
        } else if (a == net->cidr.base) {
            diag_.error(iface.address_at, a.str() + " is the network address of " +
                                              net->cidr.str() + ", not a host address");
        } else if (a == net->cidr.broadcast()) {
            diag_.error(iface.address_at, a.str() + " is the broadcast address of " +
                                              net->cidr.str() + ", not a host address");
        } else if (net->gateway && a == *net->gateway) {
            diag_.error(iface.address_at, a.str() + " is the gateway of " + net->name + "; node " +
                                              node.name + " needs its own address");
        }
    }

    void check_roles() {
        if (site_.nodes.empty()) {
            if (site_.nodes_at.line) diag_.error(site_.nodes_at, "'nodes' lists no node");
            return;
        }
        auto controllers = site_.nodes_with_role(Role::controller);
        if (controllers.size() != 1) {
            diag_.error(controllers.size() > 1 ? controllers[1]->where : site_.nodes_at,
                        controllers.empty()
                            ? "no node has role controller; exactly one must"
                            : "more than one node has role controller (Packstack deploys one)");
        }
        if (site_.nodes_with_role(Role::compute).empty()) {
            diag_.error(site_.nodes_at, "no node has role compute; at least one must");
        }
        auto has_external_bridge = [&](const Node& n) {
            for (const auto& i : n.interfaces) {
                const Network* net = site_.network(i.network);
                if (net && net->purpose == NetworkPurpose::external && !i.bridge.empty())
                    return true;
            }
            return false;
        };
        auto network_nodes = site_.nodes_with_role(Role::network);
        for (const Node* n : network_nodes) {
            if (!has_external_bridge(*n)) {
                diag_.error(n->where, "network node " + n->name +
                                          " needs an interface on an "
                                          "external network with a bridge (e.g. bridge: br-ex), "
                                          "which Neutron's L3 agent uses");
            }
        }
        if (network_nodes.empty() && controllers.size() == 1 &&
            !has_external_bridge(*controllers[0])) {
            diag_.warning(controllers[0]->where,
                          "no network node: Neutron's agents run on the controller, which has no "
                          "interface on an external network with a bridge; instances will have "
                          "no external access");
        }
    }

    void check_distro_rules() {
        const Security& sec = site_.security;
        SourceLocation nm_at = sec.network_manager_at.line ? sec.network_manager_at : sec.where;
        if (site_.distro == Distro::el7 && sec.network_manager &&
            site_.openstack.deployer == "packstack") {
            diag_.error(nm_at,
                        "on el7 Packstack's network setup needs the legacy network "
                        "service: set security.network_manager: false");
        }
        if (site_.distro == Distro::el9 && !sec.network_manager) {
            diag_.error(nm_at,
                        "el9 has no network-scripts: NetworkManager is its only network "
                        "service; set security.network_manager: true");
        }
        if (sec.firewalld && site_.openstack.deployer == "packstack") {
            diag_.warning(sec.where.line ? sec.where : site_.distro_at,
                          "Packstack manages iptables itself and conflicts with firewalld; the "
                          "usual setting is security.firewalld: false");
        }
    }

    void check_packages() {
        static const char* const required[] = {
            "airstrap-firstboot", "openssh-server", "chrony", "kernel", "rpm", "yum", "dnf"};
        auto check = [&](const PackageChanges& changes, const std::string& where) {
            for (const auto& name : changes.remove) {
                for (const char* r : required) {
                    if (name == r) {
                        diag_.error(changes.where,
                                    where + " removes " + name + ", which every node needs");
                    }
                }
                if (std::find(changes.add.begin(), changes.add.end(), name) != changes.add.end()) {
                    diag_.error(changes.where, where + " both adds and removes " + name);
                }
            }
        };
        check(site_.packages.common, "packages.common");
        for (const auto& [role, changes] : site_.packages.roles) {
            check(changes, std::string("packages.") + to_string(role));
        }
    }

    void check_openstack() {
        const OpenStack& os = site_.openstack;
        if (os.release.empty()) return;
        const PackstackRelease* rel = packstack_release(os.release);
        if (!rel) {
            auto names = packstack_release_names();
            std::string message = "unknown Packstack release '" + os.release + "'";
            if (auto near = text::closest(os.release, names)) {
                message += " (did you mean '" + *near + "'?)";
            } else {
                message += "; known: " + text::join(names, ", ");
            }
            diag_.error(os.release_at, message);
            return;
        }
        if (!release_built_for(os.release, site_.distro)) {
            diag_.warning(os.release_at, "RDO did not build " + os.release + " for " +
                                             to_string(site_.distro) +
                                             "; the repository must carry packages that do");
        }
        auto services = rel->service_names();
        for (const auto& [service, on] : os.services) {
            if (!rel->service_key(service).empty()) continue;
            std::string message = "unknown service '" + service + "' for Packstack " + os.release;
            if (auto near = text::closest(service, services)) {
                message += " (did you mean '" + *near + "'?)";
            } else {
                message += "; known: " + text::join(services, ", ");
            }
            diag_.error(os.service_at.at(service), message);
        }
        auto keys = rel->names();
        for (const AnswerOverride& a : os.answers) {
            const ManagedAnswer* managed = nullptr;
            for (const ManagedAnswer* m = managed_answers; m->key; ++m) {
                if (a.key == m->key) managed = m;
            }
            if (managed) {
                diag_.error(a.where, a.key + " is written by airstrap from " + managed->set_by +
                                         "; set it there instead");
                continue;
            }
            if (a.key.ends_with("_INSTALL") || a.key.starts_with("CONFIG_PROVISION_")) {
                bool toggle = false;
                for (const auto& s : services) toggle = toggle || rel->service_key(s) == a.key;
                if (toggle) {
                    diag_.error(a.where, a.key +
                                             " is a service toggle; use openstack.services "
                                             "instead");
                    continue;
                }
            }
            const PackstackParam* p = rel->find(a.key);
            if (!p) {
                std::string message =
                    "unknown answer-file key '" + a.key + "' for Packstack " + os.release;
                if (auto near = text::closest(a.key, keys)) {
                    message += " (did you mean '" + *near + "'?)";
                }
                diag_.error(a.where, message);
                continue;
            }
            if (!p->options.empty() &&
                std::find(p->options.begin(), p->options.end(), a.value) == p->options.end()) {
                diag_.error(a.where, "'" + a.value + "' is not a value " + a.key +
                                         " accepts; expected " + text::join(p->options, ", "));
            }
        }
    }

    const Site& site_;
    Diagnostics& diag_;
};

}  // namespace

void validate_site(const Site& site, Diagnostics& diag) {
    Validator(site, diag).run();
}

}  // namespace airstrap::site
