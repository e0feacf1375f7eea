#include "deploy/kolla.hpp"

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include "common/embedded.hpp"
#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/text.hpp"
#include "site/packstack_params.hpp"

namespace airstrap {
extern const EmbeddedFile kolla_group_tables[];
extern const std::size_t kolla_group_tables_count;
}  // namespace airstrap

namespace airstrap::deploy {

namespace {

using site::Node;
using site::Role;
using site::Site;

const std::map<std::string, KollaGroups, std::less<>>& all_tables() {
    static std::once_flag once;
    static std::map<std::string, KollaGroups, std::less<>> tables;
    std::call_once(once, [] {
        for (std::size_t t = 0; t < kolla_group_tables_count; ++t) {
            KollaGroups g;
            g.release = kolla_group_tables[t].name;
            for (const auto& raw : text::split(kolla_group_tables[t].text, '\n')) {
                std::string line = text::trim(raw);
                if (line.starts_with("# origin: ")) g.origin = line.substr(10);
                if (line.empty() || line[0] == '#') continue;
                auto colon = line.find(':');
                std::vector<std::string> words;
                for (const auto& w : text::split(colon == std::string::npos
                                                     ? std::string_view(line)
                                                     : std::string_view(line).substr(colon + 1),
                                                 ' ')) {
                    if (!w.empty()) words.push_back(w);
                }
                if (colon == std::string::npos) {  // "hosts control network …"
                    words.erase(words.begin());
                    g.host_groups = std::move(words);
                } else {
                    g.children.emplace_back(line.substr(0, colon), std::move(words));
                }
            }
            tables.emplace(g.release, std::move(g));
        }
    });
    return tables;
}

// The position of a release in kolla_release_names(): newer is larger.
std::size_t release_index(std::string_view release) {
    auto names = kolla_release_names();
    return static_cast<std::size_t>(std::find(names.begin(), names.end(), release) - names.begin());
}

bool has_group(const KollaGroups& g, std::string_view name) {
    if (std::find(g.host_groups.begin(), g.host_groups.end(), name) != g.host_groups.end())
        return true;
    return std::any_of(g.children.begin(), g.children.end(),
                       [&](const auto& c) { return c.first == name; });
}

// What kolla-ansible documents for EL hosts, per release (its support matrix and the
// kolla_base_distro default of ansible/group_vars/all.yml).
struct DistroChoice {
    const char* base_distro;
    const char* why;
    std::set<site::Distro> hosts;  // host OSes kolla-ansible lists for the release
};
DistroChoice distro_choice(std::string_view release) {
    using site::Distro;
    std::size_t at = release_index(release);
    if (at <= release_index("stein"))
        return {"centos", "kolla's CentOS 7 images (CentOS 7 hosts)", {Distro::el7}};
    if (at == release_index("train"))
        return {
            "centos", "kolla's CentOS images (CentOS 7 and 8 hosts)", {Distro::el7, Distro::el8}};
    if (at <= release_index("xena"))
        return {"centos", "kolla's CentOS 8 / Stream 8 images (EL8 hosts)", {Distro::el8}};
    if (at == release_index("yoga"))
        return {"centos",
                "kolla's CentOS Stream 8 images (EL8 hosts; yoga also runs on Rocky 9)",
                {Distro::el8, Distro::el9}};
    if (at < release_index("master"))
        return {"rocky",
                "kolla's default from zed on: it publishes Rocky Linux 9 images, not CentOS "
                "Stream 9 ones",
                {Distro::el9}};
    return {"rocky", "kolla's only EL images on master (Rocky Linux 10 hosts)", {}};
}

// Packstack's service switches (openstack.services) → kolla-ansible's. Written when the
// release's hierarchy has the group, i.e. kolla-ansible of that release knows the service.
// Not here: heat_cfn (part of kolla's heat), client, demo (kolla's init-runonce does that),
// tempest.
struct ServiceSwitch {
    const char* service;  // Packstack's name, as in site.yaml
    const char* flag;
    const char* group;
};
constexpr ServiceSwitch service_switches[] = {
    {"mariadb", "enable_mariadb", "mariadb"},
    {"glance", "enable_glance", "glance"},
    {"nova", "enable_nova", "nova"},
    {"neutron", "enable_neutron", "neutron"},
    {"neutron_metering_agent", "enable_neutron_metering", "neutron-metering-agent"},
    {"lbaas", "enable_neutron_lbaas", "neutron-lbaas-agent"},
    {"horizon", "enable_horizon", "horizon"},
    {"manila", "enable_manila", "manila"},
    {"swift", "enable_swift", "swift"},
    {"ceilometer", "enable_ceilometer", "ceilometer"},
    {"aodh", "enable_aodh", "aodh"},
    {"panko", "enable_panko", "panko"},
    {"sahara", "enable_sahara", "sahara"},
    {"heat", "enable_heat", "heat"},
    {"magnum", "enable_magnum", "magnum"},
    {"trove", "enable_trove", "trove"},
    {"ironic", "enable_ironic", "ironic"},
};

// A service's state: site.yaml's word, else Packstack's default for the release.
struct ServiceState {
    bool on = false;
    bool known = false;  // site.yaml or Packstack has it
    std::string from;
};
ServiceState service_state(const Site& site, const std::string& service) {
    const auto& services = site.openstack.services;
    if (auto it = services.find(service); it != services.end())
        return {it->second, true, "site.yaml openstack.services." + service};
    const site::PackstackRelease* rel = site::packstack_release(site.openstack.release);
    if (!rel) return {};
    std::string key = rel->service_key(service);
    const site::PackstackParam* p = key.empty() ? nullptr : rel->find(key);
    if (!p) return {};
    return {p->default_value == "y", true, "Packstack's default (" + key + ")"};
}

std::string yes_no(bool on) {
    return on ? "\"yes\"" : "\"no\"";
}

std::string quoted(const std::string& s) {
    return "\"" + s + "\"";
}

// The interface a node has on the management network.
const site::Interface* management_interface(const Site& site, const Node& node) {
    const site::Network* mgmt = site.management_network();
    return mgmt ? node.interface_on(mgmt->name) : nullptr;
}

// The NIC Neutron's external bridge takes over: the one naming a bridge, preferring an
// external network's.
const site::Interface* external_interface(const Site& site, const Node& node) {
    const site::Interface* any = nullptr;
    for (const auto& i : node.interfaces) {
        if (i.bridge.empty()) continue;
        const site::Network* net = site.network(i.network);
        if (net && net->purpose == site::NetworkPurpose::external) return &i;
        if (!any) any = &i;
    }
    return any;
}

struct Plan {
    const KollaGroups* groups = nullptr;
    const Node* controller = nullptr;
    std::string vip;                // the controller's management address
    std::string network_interface;  // the controller's management NIC
    std::string external_interface;
    std::vector<const Node*> network_hosts;         // the network nodes, or the controller
    std::map<std::string, std::string> host_lines;  // node name → "NAME ansible_host=… …"
};

Plan plan_for(const Site& site) {
    Plan p;
    const std::string& release = site.openstack.release;
    p.groups = kolla_groups(release);
    if (!p.groups) {
        auto names = kolla_release_names();
        std::string message = "kolla-ansible has no release '" + release +
                              "' (openstack.release); known: " + text::join(names, ", ");
        if (auto near = text::closest(release, names))
            message += " (did you mean '" + *near + "'?)";
        throw InputError(message);
    }
    p.controller = site.controller();
    if (!p.controller)
        throw InputError(
            "the site has no node with role controller; kolla's control group needs one");
    auto address = [&](const Node& n) {
        auto a = site.management_address(n);
        if (!a) throw InputError("node " + n.name + " has no address on the management network");
        return a->str();
    };
    auto mgmt_nic = [&](const Node& n) {
        const site::Interface* i = management_interface(site, n);
        if (!i) throw InputError("node " + n.name + " has no interface on the management network");
        return site.device_of(*i);
    };
    p.vip = address(*p.controller);
    p.network_interface = mgmt_nic(*p.controller);

    p.network_hosts = site.nodes_with_role(Role::network);
    if (p.network_hosts.empty()) p.network_hosts.push_back(p.controller);
    std::map<std::string, std::string> external;
    for (const Node* n : p.network_hosts) {
        const site::Interface* i = external_interface(site, *n);
        if (!i) {
            throw InputError(
                "node " + n->name +
                " runs Neutron's agents but has no interface with a bridge (e.g. bridge: br-ex); "
                "kolla's neutron_external_interface needs one");
        }
        external[n->name] = site.device_of(*i);
        if (p.external_interface.empty()) p.external_interface = site.device_of(*i);
    }
    if (site.openstack.l2_agent == site::L2Agent::ovn && !has_group(*p.groups, "ovn-controller")) {
        throw InputError("kolla-ansible " + release +
                         " cannot deploy OVN (it arrived in ussuri); use l2_agent: openvswitch");
    }

    // Host variables only where a node differs from globals.yml: kolla reads them per host.
    for (const Node& n : site.nodes) {
        std::string line = n.name + " ansible_host=" + address(n);
        if (std::string nic = mgmt_nic(n); nic != p.network_interface)
            line += " network_interface=" + nic;
        if (auto it = external.find(n.name);
            it != external.end() && it->second != p.external_interface)
            line += " neutron_external_interface=" + it->second;
        p.host_lines[n.name] = line;
    }
    return p;
}

std::string render_multinode(const Site& site, const Plan& p, const std::string& source) {
    const std::string& release = site.openstack.release;
    std::string out = "# kolla-ansible multinode inventory of site " + site.name +
                      ", in the layout of kolla-ansible " + release +
                      ".\n"
                      "# Generated by airstrap from " +
                      source +
                      "; edit site.yaml, not this file.\n"
                      "# The groups after the host groups are kolla-ansible's own, from\n# " +
                      p.groups->origin + ".\n";
    auto lines_of = [&](const std::vector<const Node*>& nodes) {
        std::string s;
        for (const Node* n : nodes) s += p.host_lines.at(n->name) + "\n";
        return s;
    };
    const std::vector<const Node*> controller{p.controller};
    bool compute_is_parent = has_group(*p.groups, "external-compute");
    for (const std::string& g : p.groups->host_groups) {
        std::string comment, hosts;
        if (g == "control") {
            hosts = lines_of(controller);
        } else if (g == "network") {
            if (site.nodes_with_role(Role::network).empty())
                comment =
                    "No network node: Neutron's agents run on the controller, as with Packstack.";
            hosts = lines_of(p.network_hosts);
        } else if (g == "compute" || (g == "external-compute" && compute_is_parent)) {
            if (g == "external-compute")
                comment = "In kolla-ansible " + release +
                          ", [compute:children] is inner-compute and external-compute:\n# the "
                          "site's compute nodes go here, as in kolla's own example.";
            hosts = lines_of(site.nodes_with_role(Role::compute));
        } else if (g == "monitoring") {
            comment = "The site has no monitoring node: the controller.";
            hosts = lines_of(controller);
        } else if (g == "storage") {
            comment =
                "Cinder's LVM volumes on the controller, as Packstack does (volume group "
                "cinder-volumes).";
            hosts = lines_of(controller);
        } else if (g == "deployment") {
            hosts = "localhost ansible_connection=local\n";
        } else if (g == "inner-compute") {
            comment = "Compute nodes without external reachability: none.";
        } else {
            comment = "Not used by this site.";
        }
        out += "\n";
        if (!comment.empty()) out += "# " + comment + "\n";
        out += "[" + g + "]\n" + hosts;
    }
    out += "\n# The group hierarchy of kolla-ansible " + release + ".\n";
    for (const auto& [group, kids] : p.groups->children) {
        out += "\n[" + group + ":children]\n";
        for (const auto& k : kids) out += k + "\n";
    }
    return out;
}

std::string render_globals(const Site& site, const Plan& p, const std::string& source) {
    const std::string& release = site.openstack.release;
    const KollaGroups& groups = *p.groups;
    DistroChoice distro = distro_choice(release);
    std::string out =
        "# kolla-ansible globals.yml of site " + site.name + " (kolla-ansible " + release +
        ").\n"
        "# Generated by airstrap from " +
        source +
        "; edit site.yaml, not this file.\n"
        "#\n"
        "# The site has no internet, and kolla-ansible deploys container images, which\n"
        "# airstrap's RPM repository does not carry: the operator provides a registry on the\n"
        "# site with kolla's " +
        release + " images (" + distro.base_distro +
        ") and sets docker_registry below.\n"
        "# Passwords are not here: kolla-genpwd fills /etc/kolla/passwords.yml.\n"
        "---\n";

    out += "\n# " + std::string(distro.why) + ".\n";
    if (!distro.hosts.contains(site.distro)) {
        out += "# Note: kolla-ansible " + release + " does not list " +
               site::to_string(site.distro) + " hosts (site.distro) in its support matrix.\n";
    }
    out += "kolla_base_distro: " + quoted(distro.base_distro) + "\n";
    if (release_index(release) <= release_index("yoga")) {
        out += "# RDO's packages inside the images, as Packstack installs them (zed dropped it).\n";
        out += "kolla_install_type: \"binary\"\n";
    }
    out += "openstack_release: " + quoted(release) + "\n";

    out +=
        "\n# One controller: no HAProxy and keepalived in front of the APIs, so the internal\n"
        "# address is the controller's own management address.\n";
    out += "kolla_internal_vip_address: " + quoted(p.vip) + "\n";
    out += "enable_haproxy: \"no\"\n";

    out +=
        "\n# The controller's management NIC; the inventory names a node's own where it differs.\n";
    out += "network_interface: " + quoted(p.network_interface) + "\n";
    out += "# The network node's NIC with a bridge: in site.yaml (Neutron's external network).\n";
    out += "neutron_external_interface: " + quoted(p.external_interface) + "\n";
    out += "neutron_plugin_agent: " + quoted(site::to_string(site.openstack.l2_agent)) +
           "  # openstack.l2_agent\n";

    out += "\n# Container images: the site's registry, which holds kolla's images.\n";
    out += "#docker_registry: \"REGISTRY_HOST:PORT\"\n";

    ServiceState cinder = service_state(site, "cinder");
    bool cinder_on = cinder.known ? cinder.on : true;
    out += "\n";
    if (cinder_on) {
        out +=
            "# Cinder with LVM on the controller (the storage group), Packstack's cinder-volumes\n"
            "# volume group: unlike Packstack (a " +
            site.openstack.cinder_volumes_size +
            " loop file), kolla does not make it; create\n"
            "# volume group cinder-volumes on the controller before deploying.\n";
    } else {
        out += "# Cinder off: " + cinder.from + ".\n";
    }
    out += "enable_cinder: " + yes_no(cinder_on) + "\n";
    out += "enable_cinder_backend_lvm: " + yes_no(cinder_on) + "\n";

    out +=
        "\n# openstack.services, with Packstack's defaults where site.yaml is silent, so that\n"
        "# kolla deploys the services Packstack would.\n";
    for (const ServiceSwitch& s : service_switches) {
        if (!has_group(groups, s.group)) continue;
        ServiceState st = service_state(site, s.service);
        if (!st.known) continue;
        out += std::string(s.flag) + ": " + yes_no(st.on) + "  # " + st.from + "\n";
        if (std::string_view(s.service) == "ceilometer" && has_group(groups, "gnocchi")) {
            out += "enable_gnocchi: " + yes_no(st.on) +
                   "  # Packstack installs Gnocchi as Ceilometer's store\n";
        }
    }
    std::vector<std::string> left_out, lost;
    for (const auto& [service, on] : site.openstack.services) {
        bool mapped = service == "cinder";
        for (const ServiceSwitch& s : service_switches)
            mapped = mapped || (service == s.service && has_group(groups, s.group));
        if (mapped) continue;
        left_out.push_back(service);
        if (on) lost.push_back(service);
    }
    if (!left_out.empty()) {
        out += "# Left out, kolla-ansible " + release +
               " has no switch for them: " + text::join(left_out, ", ") + ".\n";
    }
    if (!lost.empty()) {
        out +=
            "# Not deployed by kolla although site.yaml turns them on: " + text::join(lost, ", ") +
            ".\n";
    }

    out += "\n";
    std::vector<std::string> nested;
    for (const Node* n : site.nodes_with_role(Role::compute))
        if (n->nested_virtualization) nested.push_back(n->name);
    if (!nested.empty()) {
        out += "# " + text::join(nested, ", ") +
               ": a VM with nested KVM (nested_virtualization: true), so kvm still applies.\n";
    }
    out += "nova_compute_virt_type: \"kvm\"\n";
    return out;
}

}  // namespace

const KollaGroups* kolla_groups(std::string_view release) {
    const auto& tables = all_tables();
    auto it = tables.find(release);
    return it == tables.end() ? nullptr : &it->second;
}

std::vector<std::string> kolla_release_names() {
    std::vector<std::string> out;
    for (std::size_t t = 0; t < kolla_group_tables_count; ++t)
        out.emplace_back(kolla_group_tables[t].name);
    return out;
}

KollaInventory render_kolla_inventory(const Site& site, const std::string& source) {
    Plan p = plan_for(site);
    return {render_multinode(site, p, source), render_globals(site, p, source)};
}

void write_kolla_inventory(const Site& site, const std::filesystem::path& dir,
                           const std::string& source) {
    KollaInventory inv = render_kolla_inventory(site, source);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw SystemError("cannot create " + dir.string(), ec.value());
    // Both staged first: a failure before the renames leaves neither file behind.
    AtomicFile multinode(dir / "multinode", 0644);
    AtomicFile globals(dir / "globals.yml", 0644);
    multinode.write(inv.multinode);
    globals.write(inv.globals);
    // The one rename that can fail for a reason known now: a folder in the way.
    for (const AtomicFile* f : {&multinode, &globals}) {
        if (std::filesystem::is_directory(f->target()))
            throw SystemError("cannot replace " + f->target().string(), EISDIR);
    }
    multinode.commit();
    globals.commit();
}

}  // namespace airstrap::deploy
