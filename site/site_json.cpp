#include "site/site_json.hpp"

namespace airstrap::site {

namespace {

nlohmann::json addresses(const std::vector<Ipv4>& list) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& ip : list) out.push_back(ip.str());
    return out;
}

// What the controller's day-1 step creates; no passwords (site.json is world-readable).
nlohmann::json cloud_json(const Site& site) {
    using nlohmann::json;
    const Cloud& cloud = site.cloud;
    json external;  // null without an external network
    if (const auto& en = cloud.external_network) {
        const Network* net = site.network(en->network);
        std::optional<Ipv4> gateway = en->gateway;
        if (!gateway && net) gateway = net->gateway;
        json pools = json::array();
        if (en->allocation_pool) {
            pools.push_back({{"start", en->allocation_pool->first.str()},
                             {"end", en->allocation_pool->second.str()}});
        }
        external = {{"name", en->name},
                    {"subnet", en->subnet},
                    {"physical_network", en->physical_network},
                    {"cidr", net ? net->cidr.str() : ""},
                    {"gateway", gateway ? gateway->str() : ""},
                    {"allocation_pools", pools},
                    {"dns", addresses(en->dns)}};
    }
    json networks = json::array();
    for (const auto& n : cloud.networks) {
        networks.push_back({{"name", n.name},
                            {"subnet", n.subnet},
                            {"cidr", n.cidr.str()},
                            {"gateway", n.gateway ? n.gateway->str() : ""},
                            {"dns", addresses(n.dns)},
                            {"project", n.project}});
    }
    json routers = json::array();
    for (const auto& r : cloud.routers) {
        routers.push_back({{"name", r.name},
                           {"external_gateway", r.external_gateway},
                           {"subnets", r.subnets},
                           {"project", r.project}});
    }
    json flavors = json::array();
    for (const auto& f : cloud.flavors) {
        flavors.push_back({{"name", f.name},
                           {"vcpus", f.vcpus},
                           {"ram", f.ram},
                           {"disk", f.disk},
                           {"public", f.is_public}});
    }
    json images = json::array();
    for (const auto& i : cloud.images) {
        images.push_back({{"name", i.name},
                          {"file", i.file()},
                          {"disk_format", i.disk_format},
                          {"container_format", i.container_format},
                          {"public", i.is_public}});
    }
    json projects = json::array();
    for (const auto& p : cloud.projects) {
        projects.push_back({{"name", p.name}, {"description", p.description}});
    }
    json users = json::array();
    for (const auto& u : cloud.users) {
        users.push_back({{"name", u.name}, {"project", u.project}, {"role", u.role}});
    }
    return {{"external_network", external},
            {"networks", networks},
            {"routers", routers},
            {"flavors", flavors},
            {"images", images},
            {"projects", projects},
            {"users", users}};
}

}  // namespace

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
        {"cloud", cloud_json(site)},
    };
}

}  // namespace airstrap::site
