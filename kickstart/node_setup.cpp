#include "kickstart/node_setup.hpp"

#include "common/crypto.hpp"
#include "common/error.hpp"
#include "common/text.hpp"
#include "deploy/answers.hpp"
#include "kickstart/node_config.hpp"
#include "kickstart/password.hpp"
#include "kickstart/render.hpp"
#include "node/credentials.hpp"
#include "node/deploy_config.hpp"
#include "node/identity.hpp"
#include "site/site_json.hpp"

namespace airstrap::kickstart {

namespace {

const site::Node& find_node(const site::Site& site, const std::string& node) {
    std::vector<std::string> names;
    for (const auto& n : site.nodes) {
        if (n.name == node) return n;
        names.push_back(n.name);
    }
    throw InputError("'" + node + "' is not a node of site " + site.name + " (" +
                     text::join(names, ", ") + ")");
}

}  // namespace

std::string root_password_hash(const site::Secrets& secrets) {
    auto seed = crypto::hkdf_sha256(secrets.site_secret, "", "airstrap v1 rootpw salt", 16);
    return sha512_crypt(secrets.root_password, seed);
}

ServiceSet node_services(const site::Site& site) {
    ServiceSet s;
    s.enable = {"sshd", "chronyd"};
    if (!site.security.network_manager) {
        s.enable.push_back("network");
        s.disable.push_back("NetworkManager");
    }
    if (!site.security.firewalld) s.disable.push_back("firewalld");
    return s;
}

std::string site_repo_file_text(const site::Site& site) {
    return "[airstrap]\n"
           "name=airstrap site repository (" +
           site.name +
           ")\n"
           "baseurl=file://" +
           std::string(node::repository_dir) +
           "\n"
           "enabled=1\n"
           "# Packages were verified against airstrap.lock when the repository was built.\n"
           "gpgcheck=0\n";
}

std::string nested_kvm_conf_text() {
    return "options kvm_intel nested=1\noptions kvm_amd nested=1\n";
}

std::vector<NodeFile> firstboot_files(const site::Site& site, const site::Secrets& secrets,
                                      const std::string& node) {
    find_node(site, node);
    std::vector<NodeFile> files = {
        {node::site_json_file, 0644, node::site_json_text(site::node_site(site, secrets))},
        {node::node_name_file, 0644, node + "\n"},
        {node::node_key_file, 0600,
         node::key_file_text(node::node_key(secrets.site_secret, node))}};
    const site::Node* controller = site.controller();
    if (controller && controller->name == node) {
        // Only the controller holds the site secret: it derives every node's key from it to
        // check their proofs, signs with the key derived from it, and opens deploy.sealed.
        files.push_back({node::site_key_file, 0600, node::key_file_text(secrets.site_secret)});
        files.push_back({node::deploy_sealed_file, 0600,
                         node::seal_deploy_config(deploy::deploy_config_for(site, secrets),
                                                  secrets.site_secret)});
    }
    return files;
}

NodeSetup node_setup(const site::Site& site, const site::Secrets& secrets,
                     const std::string& node) {
    const site::Node& n = find_node(site, node);
    NodeSetup s;
    s.node = n.name;
    s.fqdn = n.name + "." + site.domain;
    s.root_hash = root_password_hash(secrets);
    s.timezone = site.timezone;
    s.rtc_utc = site.rtc == site::Rtc::utc;
    s.language = site.language;
    s.keymap = site.keyboard;
    s.selinux = site.security.selinux;
    s.services = node_services(site);
    s.services.enable.push_back(firstboot_unit);
    s.network = node_network(site, n);
    s.files.push_back({site_repo_file, 0644, site_repo_file_text(site)});
    if (!site.ssh.authorized_keys.empty()) {
        std::string keys;
        for (const auto& k : site.ssh.authorized_keys) keys += k + "\n";
        s.files.push_back({"/root/.ssh/authorized_keys", 0600, keys});
    }
    if (n.role == site::Role::compute) {
        if (n.nested_virtualization)
            s.files.push_back({nested_kvm_conf, 0644, nested_kvm_conf_text()});
        // libvirt's default network (virbr0, 192.168.122.0/24) clashes with Neutron.
        s.remove_packages.push_back("libvirt-daemon-config-network");
    }
    for (auto& f : firstboot_files(site, secrets, node)) s.files.push_back(std::move(f));
    return s;
}

std::vector<NodeFile> network_files(const std::vector<NetDevice>& devices, NetworkFiles style,
                                    bool nm_controlled) {
    std::vector<NodeFile> files;
    for (const NetDevice& dev : devices) {
        if (style == NetworkFiles::ifcfg) {
            files.push_back({"/etc/sysconfig/network-scripts/ifcfg-" + dev.id(), 0644,
                             ifcfg_text(dev, nm_controlled)});
        } else {
            files.push_back({"/etc/NetworkManager/system-connections/" + dev.id() + ".nmconnection",
                             0600, nm_keyfile_text(dev)});
        }
    }
    return files;
}

std::string selinux_config_text(site::Selinux mode) {
    return "# Written by airstrap (site.yaml security.selinux)\nSELINUX=" +
           std::string(site::to_string(mode)) + "\nSELINUXTYPE=targeted\n";
}

}  // namespace airstrap::kickstart
