#include "deploy/answers.hpp"

#include <set>

#include "common/error.hpp"
#include "common/text.hpp"
#include "node/layout.hpp"

namespace airstrap::deploy {

namespace {

class Settings {
  public:
    Settings(const site::PackstackRelease& release) : release_(release) {}

    // A key every release we support has: missing means a table and the code disagree.
    void set(const std::string& key, const std::string& value, const std::string& from,
             bool secret = false) {
        if (!release_.find(key)) {
            throw InputError(key + " (from " + from + ") is not a parameter of Packstack " +
                             release_.name());
        }
        put(key, value, from, secret);
    }
    // A key that only some releases have.
    void set_if_known(const std::string& key, const std::string& value, const std::string& from) {
        if (release_.find(key)) put(key, value, from, false);
    }
    std::vector<AnswerSetting> take() { return std::move(out_); }

  private:
    void put(const std::string& key, const std::string& value, const std::string& from,
             bool secret) {
        for (auto& s : out_) {
            if (s.key == key) {
                s = {key, value, from, secret};
                return;
            }
        }
        out_.push_back({key, value, from, secret});
    }
    const site::PackstackRelease& release_;
    std::vector<AnswerSetting> out_;
};

std::string addresses(const site::Site& site, site::Role role) {
    std::vector<std::string> out;
    for (const site::Node* n : site.nodes_with_role(role)) {
        if (auto a = site.management_address(*n)) out.push_back(a->str());
    }
    return text::join(out, ",");
}

// Packstack's default is Python rather than a literal: a call, a placeholder constant, a
// list, a puppet fact.
bool computed_default(const std::string& d) {
    if (d.find('(') != std::string::npos || d.starts_with("%") || d.starts_with("[") ||
        d == "default_ssh_key")
        return true;
    bool constant = d.find('_') != std::string::npos;
    for (char c : d) constant = constant && ((c >= 'A' && c <= 'Z') || c == '_');
    return constant;  // DEMO_IMAGE_URL, PW_PLACEHOLDER
}

// The physical network name Neutron's external network is created on (cloud:), which the
// bridge mapping must carry.
std::string external_physical_network(const site::Site& site) {
    const auto& ext = site.cloud.external_network;
    return ext ? ext->physical_network : "extnet";
}

// Packstack's demo uploads an image it would download from the internet: with the demo on,
// it takes the site's first cloud image from the node's copy of the repository instead
// (validation refuses the demo without one).
template <typename Fn>
void demo_image_settings(const site::Site& site, Fn&& set) {
    auto demo = site.openstack.services.find("demo");
    if (demo == site.openstack.services.end() || !demo->second || site.cloud.images.empty()) return;
    const site::CloudImage& image = site.cloud.images.front();
    set("CONFIG_PROVISION_IMAGE_URL",
        std::string("file://") + node::repository_dir + "/" + image.file());
    set("CONFIG_PROVISION_IMAGE_NAME", image.name);
    set("CONFIG_PROVISION_IMAGE_FORMAT", image.disk_format);
}

}  // namespace

std::vector<AnswerSetting> packstack_settings(const site::Site& site,
                                              const site::Secrets& secrets) {
    const site::OpenStack& os = site.openstack;
    const site::PackstackRelease* release = site::packstack_release(os.release);
    if (!release) throw InputError("unknown Packstack release '" + os.release + "'");
    Settings s(*release);
    const std::string nodes = "the nodes of site.yaml with role ";
    s.set("CONFIG_CONTROLLER_HOST", addresses(site, site::Role::controller), nodes + "controller");
    s.set("CONFIG_COMPUTE_HOSTS", addresses(site, site::Role::compute), nodes + "compute");
    std::string network_hosts = addresses(site, site::Role::network);
    // Without a network node, Packstack puts the agents on the controller.
    s.set("CONFIG_NETWORK_HOSTS",
          network_hosts.empty() ? addresses(site, site::Role::controller) : network_hosts,
          network_hosts.empty() ? nodes + "controller (the site has no network node)"
                                : nodes + "network");
    s.set("CONFIG_DEFAULT_PASSWORD", secrets.default_password, "secrets.yaml passwords.default",
          true);
    s.set("CONFIG_KEYSTONE_ADMIN_PW", secrets.keystone_admin_password,
          "secrets.yaml passwords.keystone_admin", true);
    for (const auto& [service, on] : os.services) {
        std::string key = release->service_key(service);
        if (key.empty())
            throw InputError("unknown service '" + service + "' for Packstack " + os.release);
        s.set(key, on ? "y" : "n", "site.yaml openstack.services." + service);
    }
    // Tempest clones from the internet: off unless the site turns it on (validation refuses).
    if (!os.services.count("tempest")) s.set_if_known("CONFIG_PROVISION_TEMPEST", "n", "air gap");
    // The controller's cinder-volumes data disk: the installer made the volume group there;
    // otherwise Packstack makes one on a loop file of this size.
    const site::Node* controller = site.controller();
    if (controller && controller->disks.data_for(site::DiskUse::cinder_volumes)) {
        s.set("CONFIG_CINDER_VOLUMES_CREATE", "n",
              "the controller's cinder-volumes disk (site.yaml disks.data)");
    } else {
        s.set("CONFIG_CINDER_VOLUMES_SIZE", os.cinder_volumes_size,
              "site.yaml openstack.cinder_volumes_size");
    }
    s.set("CONFIG_NEUTRON_L2_AGENT", site::to_string(os.l2_agent), "site.yaml openstack.l2_agent");

    // The external bridge: the network node's interfaces that name one. With OVN, packstack
    // copies the OVN keys over the OVS ones, so only the keys of the chosen agent are written.
    std::set<std::string> bridges;
    std::vector<std::string> ifaces;
    for (const site::Node& n : site.nodes) {
        if (n.role != site::Role::network && n.role != site::Role::controller) continue;
        for (const site::Interface& i : n.interfaces) {
            if (i.bridge.empty()) continue;
            // The device that carries the network: a NIC, a bond or a VLAN on either.
            if (bridges.insert(i.bridge).second)
                ifaces.push_back(i.bridge + ":" + site.device_of(i));
        }
    }
    if (!ifaces.empty()) {
        std::string physnet = external_physical_network(site);
        std::vector<std::string> mappings;
        for (const auto& b : bridges) mappings.push_back(physnet + ":" + b);
        std::string prefix = os.l2_agent == site::L2Agent::ovn ? "CONFIG_NEUTRON_OVN_BRIDGE"
                                                               : "CONFIG_NEUTRON_OVS_BRIDGE";
        const std::string from = "the bridge: of the network node's external interface";
        s.set(prefix + "_MAPPINGS", text::join(mappings, ","), from);
        s.set(prefix + "_IFACES", text::join(ifaces, ","), from);
    }
    s.set("CONFIG_NTP_SERVERS", "", "airstrap-firstboot owns chrony (time.upstream)");
    // The controller's own key, which airstrap-firstboot installed on every node.
    s.set("CONFIG_SSH_KEY", "/root/.ssh/id_ed25519.pub", "airstrap-firstboot's root key");
    bool nested = false;
    for (const site::Node* n : site.nodes_with_role(site::Role::compute))
        nested = nested || n->nested_virtualization;
    if (nested) {
        s.set_if_known("CONFIG_NOVA_LIBVIRT_VIRT_TYPE", "kvm",
                       "site.yaml nested_virtualization of the compute nodes");
    }
    demo_image_settings(site, [&](const std::string& key, const std::string& value) {
        s.set(key, value, "site.yaml cloud.images (Packstack's demo, from the site repository)");
    });
    s.set("EXCLUDE_SERVERS", "", "every node is deployed");
    for (const site::AnswerOverride& a : os.answers) {
        s.set(a.key, a.value, "site.yaml openstack.answers." + a.key);
    }
    return s.take();
}

node::DeployConfig deploy_config_for(const site::Site& site, const site::Secrets& secrets) {
    node::DeployConfig c;
    c.answers = packstack_settings(site, secrets);
    c.user_passwords = secrets.user_passwords;
    return c;
}

std::string baseline_answer_file(const site::PackstackRelease& release) {
    std::string out =
        "# Packstack " + release.name() +
        " parameters with their defaults, as airstrap knows them (packstack's own\n"
        "# --gen-answer-file, run on the controller, is what the deployment starts from).\n"
        "[general]\n";
    for (const site::PackstackParam& p : release.params()) {
        const std::string& d = p.default_value;
        bool computed = computed_default(d);
        out += "\n# " + p.plugin;
        if (!p.options.empty()) out += " (one of: " + text::join(p.options, ", ") + ")";
        if (computed) out += "; packstack computes the default: " + d;
        out += "\n" + p.name + "=" + (computed ? "" : d) + "\n";
    }
    return out;
}

std::string render_answer_file(const std::string& baseline, const std::string& baseline_name,
                               const std::vector<AnswerSetting>& settings, bool mask_secrets) {
    AnswerFile file = AnswerFile::parse(baseline, baseline_name);
    std::vector<AnswerSetting> shown = settings;
    if (mask_secrets) {
        for (auto& s : shown) {
            if (s.secret) s.value = "<secret: " + s.from + ">";
        }
    }
    apply_settings(file, shown);
    return file.render();
}

}  // namespace airstrap::deploy
