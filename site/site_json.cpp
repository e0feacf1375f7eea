#include "site/site_json.hpp"

namespace airstrap::site {

nlohmann::json to_json(const Site& site) {
    using nlohmann::json;
    json networks = json::object();
    for (const auto& n : site.networks) {
        json dns = json::array();
        for (const auto& d : n.dns) dns.push_back(d.str());
        networks[n.name] = {{"purpose", to_string(n.purpose)},
                            {"cidr", n.cidr.str()},
                            {"gateway", n.gateway ? json(n.gateway->str()) : json()},
                            {"dns", dns},
                            {"mtu", n.mtu}};
    }
    json nodes = json::array();
    for (const auto& node : site.nodes) {
        json ifaces = json::array();
        for (const auto& i : node.interfaces) {
            ifaces.push_back({{"name", i.name},
                              {"mac", i.mac},
                              {"network", i.network},
                              {"address", i.address ? json(i.address->str()) : json()},
                              {"bridge", i.bridge}});
        }
        nodes.push_back({{"name", node.name},
                         {"role", to_string(node.role)},
                         {"nested_virtualization", node.nested_virtualization},
                         {"interfaces", ifaces}});
    }
    json answers = json::object();
    for (const auto& a : site.openstack.answers) answers[a.key] = a.value;
    return {
        {"format", 1},
        {"site",
         {{"name", site.name},
          {"domain", site.domain},
          {"distro", to_string(site.distro)},
          {"timezone", site.timezone}}},
        {"networks", networks},
        {"nodes", nodes},
        {"security",
         {{"selinux", to_string(site.security.selinux)},
          {"firewalld", site.security.firewalld},
          {"network_manager", site.security.network_manager}}},
        {"time", {{"upstream", site.time.upstream}, {"stratum", site.time.stratum}}},
        {"firstboot",
         {{"port", site.firstboot.port},
          {"barrier_timeout", site.firstboot.barrier_timeout},
          {"sync_timeout", site.firstboot.sync_timeout}}},
        {"openstack",
         {{"deployer", site.openstack.deployer},
          {"release", site.openstack.release},
          {"l2_agent", to_string(site.openstack.l2_agent)},
          {"services", site.openstack.services},
          {"cinder_volumes_size", site.openstack.cinder_volumes_size},
          {"answers", answers}}},
        {"ssh", {{"authorized_keys", site.ssh.authorized_keys}}},
    };
}

}  // namespace airstrap::site
