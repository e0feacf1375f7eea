#include "site/site_json.hpp"

#include "node/credentials.hpp"

namespace airstrap::site {

namespace {

std::vector<std::string> addresses(const std::vector<Ipv4>& list) {
    std::vector<std::string> out;
    for (const auto& ip : list) out.push_back(ip.str());
    return out;
}

std::string str_or_empty(const std::optional<Ipv4>& ip) {
    return ip ? ip->str() : "";
}

// What the controller's day-1 step creates; no passwords (site.json is world-readable).
node::Cloud node_cloud(const Site& site) {
    const Cloud& cloud = site.cloud;
    node::Cloud out;
    if (const auto& en = cloud.external_network) {
        const Network* net = site.network(en->network);
        std::optional<Ipv4> gateway = en->gateway;
        if (!gateway && net) gateway = net->gateway;
        node::CloudExternalNetwork& e = out.external_network.emplace();
        e.name = en->name;
        e.subnet = en->subnet;
        e.physical_network = en->physical_network;
        e.cidr = net ? net->cidr.str() : "";
        e.gateway = str_or_empty(gateway);
        if (en->allocation_pool)
            e.allocation_pools.push_back(
                {en->allocation_pool->first.str(), en->allocation_pool->second.str()});
        e.dns = addresses(en->dns);
    }
    for (const auto& n : cloud.networks) {
        out.networks.push_back(
            {n.name, n.subnet, n.cidr.str(), str_or_empty(n.gateway), addresses(n.dns), n.project});
    }
    for (const auto& r : cloud.routers)
        out.routers.push_back({r.name, r.external_gateway, r.subnets, r.project});
    for (const auto& f : cloud.flavors)
        out.flavors.push_back({f.name, f.vcpus, f.ram, f.disk, f.is_public});
    for (const auto& i : cloud.images)
        out.images.push_back({i.name, i.file(), i.disk_format, i.container_format, i.is_public});
    for (const auto& p : cloud.projects) out.projects.push_back({p.name, p.description});
    for (const auto& u : cloud.users) out.users.push_back({u.name, u.project, u.role});
    return out;
}

}  // namespace

node::Site node_site(const Site& site, const crypto::Bytes& controller_public_key) {
    node::Site out;
    out.site = {site.name, site.domain, to_string(site.distro), site.timezone};
    for (const auto& n : site.networks) {
        std::optional<std::string> gateway;
        if (n.gateway) gateway = n.gateway->str();
        out.networks[n.name] = {to_string(n.purpose), n.cidr.str(), gateway, addresses(n.dns),
                                n.mtu};
    }
    for (const auto& node : site.nodes) {
        node::Node& n = out.nodes.emplace_back();
        n.name = node.name;
        n.role = node.role;
        n.nested_virtualization = node.nested_virtualization;
        for (const auto& i : node.interfaces) {
            std::optional<std::string> address;
            if (i.address) address = i.address->str();
            // The node sees the device that carries the network: ens32, bond0, bond0.120.
            n.interfaces.push_back(
                {site.device_of(i), node.bond(i.name) ? "" : i.mac, i.network, address, i.bridge});
        }
    }
    out.security = {to_string(site.security.selinux), site.security.firewalld,
                    site.security.network_manager};
    out.time = {site.time.upstream, site.time.stratum};
    out.firstboot = {site.firstboot.port, site.firstboot.barrier_timeout,
                     site.firstboot.sync_timeout, site.firstboot.rejoin_window,
                     crypto::to_hex(controller_public_key)};
    out.openstack.deployer = site.openstack.deployer;
    out.openstack.release = site.openstack.release;
    out.openstack.l2_agent = to_string(site.openstack.l2_agent);
    out.openstack.services = site.openstack.services;
    out.openstack.cinder_volumes_size = site.openstack.cinder_volumes_size;
    for (const auto& a : site.openstack.answers) out.openstack.answers[a.key] = a.value;
    out.ssh.authorized_keys = site.ssh.authorized_keys;
    out.cloud = node_cloud(site);
    return out;
}

node::Site node_site(const Site& site, const Secrets& secrets) {
    return node_site(site, node::controller_public_key(secrets.site_secret));
}

}  // namespace airstrap::site
