#include "site/validate_cloud.hpp"

#include <algorithm>
#include <filesystem>
#include <map>

#include "common/text.hpp"

namespace airstrap::site {

namespace {

class CloudValidator {
  public:
    CloudValidator(const Site& site, Diagnostics& diag) : site_(site), diag_(diag) {}

    void run() {
        const Cloud& cloud = site_.cloud;
        NameSet networks, subnets;
        if (cloud.external_network) {
            networks.add(diag_, "network", cloud.external_network->name,
                         cloud.external_network->name_at);
            subnets.add(diag_, "subnet", cloud.external_network->subnet,
                        cloud.external_network->subnet_at.line ? cloud.external_network->subnet_at
                                                               : cloud.external_network->name_at);
            check_external_network(*cloud.external_network);
        }
        const Network* mgmt = site_.management_network();
        const Network* ext =
            cloud.external_network ? site_.network(cloud.external_network->network) : nullptr;
        for (const auto& net : cloud.networks) {
            networks.add(diag_, "network", net.name, net.name_at);
            subnets.add(diag_, "subnet", net.subnet,
                        net.subnet_at.line ? net.subnet_at : net.name_at);
            check_project(net.project, net.project_at);
            for (const Network* site_net : {mgmt, ext}) {
                if (site_net && site_net->cidr_at.line && net.cidr.overlaps(site_net->cidr)) {
                    diag_.error(net.cidr_at, "tenant network " + net.name + " (" + net.cidr.str() +
                                                 ") overlaps the site's " +
                                                 to_string(site_net->purpose) + " network " +
                                                 site_net->name + " (" + site_net->cidr.str() +
                                                 ")");
                }
            }
            if (net.gateway) check_gateway(*net.gateway, net.cidr, net.subnet, net.gateway_at);
        }
        check_routers();
        NameSet flavors, images, files, projects, users;
        for (const auto& f : cloud.flavors) {
            flavors.add(diag_, "flavor", f.name, f.name_at);
            static const char* const packstack_flavors[] = {"m1.tiny", "m1.small", "m1.medium",
                                                            "m1.large", "m1.xlarge"};
            for (const char* p : packstack_flavors) {
                if (f.name == p) {
                    diag_.warning(f.name_at,
                                  "Packstack creates flavor " + f.name +
                                      " itself, and the day-1 step never changes an existing "
                                      "flavor: these values are not applied");
                }
            }
        }
        for (const auto& image : cloud.images) {
            images.add(diag_, "image", image.name, image.name_at);
            if (image.source.empty()) continue;
            std::string base = std::filesystem::path(image.source).filename().string();
            if (auto it = files.seen.find(base); it != files.seen.end()) {
                diag_.error(image.source_at,
                            "two images are both named " + base + " (also on line " +
                                std::to_string(it->second.line) +
                                "); the site repository keeps them side by side in images/");
            } else {
                files.seen.emplace(base, image.source_at);
            }
            // The file is needed by 'airstrap mirror', not here: a fresh clone validates.
            std::error_code ec;
            if (!std::filesystem::is_regular_file(image.source, ec)) {
                diag_.warning(image.source_at, "image file " + image.source +
                                                   " is not there yet; 'airstrap mirror' copies "
                                                   "it into the site repository and needs it");
            }
        }
        auto demo = site_.openstack.services.find("demo");
        if (demo != site_.openstack.services.end() && demo->second && cloud.images.empty()) {
            diag_.error(site_.openstack.service_at.at("demo"),
                        "Packstack's demo downloads the cirros image from the internet; an "
                        "air-gapped site must bring it: list an image in cloud.images (e.g. "
                        "cirros, with source: beside site.yaml)");
        }
        for (const auto& p : cloud.projects) projects.add(diag_, "project", p.name, p.name_at);
        for (const auto& u : cloud.users) {
            users.add(diag_, "user", u.name, u.name_at);
            if (u.name == "admin") {
                diag_.error(u.name_at,
                            "the admin user is Packstack's (its password is secrets.yaml "
                            "passwords.keystone_admin); name another user");
            }
            check_project(u.project, u.project_at);
        }
    }

  private:
    // Reports a second use of a name within one kind ("network", "subnet" …).
    struct NameSet {
        std::map<std::string, SourceLocation> seen;
        bool add(Diagnostics& diag, const std::string& kind, const std::string& name,
                 SourceLocation at) {
            if (name.empty()) return true;
            auto [it, fresh] = seen.emplace(name, at);
            if (!fresh) {
                diag.error(at, "duplicate " + kind + " name '" + name + "' (also on line " +
                                   std::to_string(it->second.line) + ")");
            }
            return fresh;
        }
    };

    void check_project(const std::string& project, SourceLocation at) {
        if (project.empty() || project == "admin") return;
        std::vector<std::string> known = {"admin"};
        for (const auto& p : site_.cloud.projects) {
            if (p.name == project) return;
            known.push_back(p.name);
        }
        std::string message = "unknown project '" + project + "'";
        if (auto near = text::closest(project, known))
            message += " (did you mean '" + *near + "'?)";
        message += "; use admin or a project listed in cloud.projects";
        diag_.error(at, message);
    }

    // A subnet's gateway: inside its range and a host address.
    void check_gateway(Ipv4 gateway, const Cidr& cidr, const std::string& subnet,
                       SourceLocation at) {
        if (!cidr.contains(gateway)) {
            diag_.error(
                at, "gateway " + gateway.str() + " is outside " + subnet + " (" + cidr.str() + ")");
        } else if (gateway == cidr.base || gateway == cidr.broadcast()) {
            diag_.error(at, "gateway " + gateway.str() + " is the " +
                                (gateway == cidr.base ? "network" : "broadcast") + " address of " +
                                cidr.str());
        }
    }

    void check_external_network(const CloudExternalNetwork& en) {
        if (en.network.empty()) return;
        const Network* net = site_.network(en.network);
        if (!net) {
            std::vector<std::string> known;
            for (const auto& n : site_.networks) {
                if (n.purpose == NetworkPurpose::external) known.push_back(n.name);
            }
            std::string message = "unknown network '" + en.network + "'";
            if (auto near = text::closest(en.network, known)) {
                message += " (did you mean '" + *near + "'?)";
            } else if (!known.empty()) {
                message += "; external networks are: " + text::join(known, ", ");
            }
            diag_.error(en.network_at, message);
            return;
        }
        if (net->purpose != NetworkPurpose::external) {
            diag_.error(en.network_at, "network " + net->name + " has purpose " +
                                           to_string(net->purpose) +
                                           "; Neutron's external network needs a site network "
                                           "of purpose external");
            return;
        }
        std::optional<Ipv4> gateway = en.gateway ? en.gateway : net->gateway;
        if (en.gateway) check_gateway(*en.gateway, net->cidr, en.subnet, en.gateway_at);
        // Addresses the site already uses on this network, which Neutron must not hand out.
        std::vector<std::pair<Ipv4, std::string>> taken;
        if (gateway) taken.emplace_back(*gateway, "the gateway");
        for (const auto& node : site_.nodes) {
            for (const auto& iface : node.interfaces) {
                if (iface.network == net->name && iface.address)
                    taken.emplace_back(*iface.address, node.name + "'s address");
            }
        }
        if (!en.allocation_pool) {
            for (const auto& [ip, whose] : taken) {
                if (whose == "the gateway") continue;
                diag_.warning(en.where, "no allocation_pool: Neutron may hand out all of " +
                                            net->cidr.str() + ", including " + ip.str() + " (" +
                                            whose + "); set one that leaves the nodes out");
                break;
            }
            return;
        }
        auto [start, end] = *en.allocation_pool;
        SourceLocation at = en.allocation_pool_at;
        if (end < start) {
            diag_.error(at,
                        "allocation pool starts at " + start.str() + " after its end " + end.str());
            return;
        }
        for (Ipv4 ip : {start, end}) {
            if (!net->cidr.contains(ip)) {
                diag_.error(at, ip.str() + " is outside network " + net->name + " (" +
                                    net->cidr.str() + ")");
                return;
            }
            if (ip == net->cidr.base || ip == net->cidr.broadcast()) {
                diag_.error(at, ip.str() + " is the " +
                                    (ip == net->cidr.base ? "network" : "broadcast") +
                                    " address of " + net->cidr.str() + ", not a host address");
                return;
            }
        }
        for (const auto& [ip, whose] : taken) {
            if (start <= ip && ip <= end) {
                diag_.error(at, "allocation pool " + start.str() + "-" + end.str() + " contains " +
                                    ip.str() + " (" + whose +
                                    "); Neutron would hand it out to a router or instance");
            }
        }
    }

    void check_routers() {
        const Cloud& cloud = site_.cloud;
        NameSet routers;
        std::map<std::string, const CloudRouter*> attached;  // subnet → its router
        std::vector<std::string> known;
        for (const auto& n : cloud.networks) known.push_back(n.subnet);
        for (const auto& r : cloud.routers) {
            routers.add(diag_, "router", r.name, r.name_at);
            check_project(r.project, r.project_at);
            if (r.external_gateway && !cloud.external_network) {
                diag_.error(r.external_gateway_at,
                            "router " + r.name +
                                " has an external gateway, but cloud.external_network "
                                "names none");
            }
            for (std::size_t i = 0; i < r.subnets.size(); ++i) {
                const std::string& subnet = r.subnets[i];
                if (std::find(known.begin(), known.end(), subnet) == known.end()) {
                    std::string message = "unknown subnet '" + subnet + "'";
                    if (cloud.external_network && subnet == cloud.external_network->subnet) {
                        message += ": that is the external subnet; set external_gateway: true";
                    } else if (auto near = text::closest(subnet, known)) {
                        message += " (did you mean '" + *near + "'?)";
                    } else {
                        message += "; a router's subnets are those of cloud.networks";
                    }
                    diag_.error(r.subnet_at[i], message);
                    continue;
                }
                auto [it, fresh] = attached.emplace(subnet, &r);
                if (!fresh) {
                    diag_.error(r.subnet_at[i],
                                "subnet " + subnet + " is already on router " + it->second->name +
                                    " (line " + std::to_string(it->second->name_at.line) +
                                    "); its gateway address can be on one router only");
                }
            }
        }
    }

    const Site& site_;
    Diagnostics& diag_;
};

}  // namespace

void validate_cloud(const Site& site, Diagnostics& diag) {
    CloudValidator(site, diag).run();
}

}  // namespace airstrap::site
