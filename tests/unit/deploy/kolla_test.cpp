// The kolla-ansible export of lab3: exact host lines per group, kolla's hierarchy complete for
// every release, OVS and OVN, the services mapping, and the errors.
#include "deploy/kolla.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "common/error.hpp"
#include "site/site_file.hpp"

namespace fs = std::filesystem;
using namespace airstrap;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    return text;
}

std::string lab3_text() {
    return slurp(fs::path(AIRSTRAP_SOURCE_DIR) / "examples/lab3/site.yaml");
}

std::unique_ptr<site::SiteFile> load(const std::string& text) {
    auto f = site::SiteFile::from_text("site.yaml", text,
                                       fs::path(AIRSTRAP_SOURCE_DIR) / "examples/lab3");
    EXPECT_FALSE(f->diag().has_errors()) << f->diag().render();
    return f;
}

// The INI inventory as sections in order: "[name]" → its lines (comments and blanks out).
struct Ini {
    std::vector<std::string> order;
    std::map<std::string, std::vector<std::string>> sections;
    const std::vector<std::string>& operator[](const std::string& name) const {
        static const std::vector<std::string> none;
        auto it = sections.find(name);
        return it == sections.end() ? none : it->second;
    }
    bool has(const std::string& name) const { return sections.count(name) != 0; }
};

Ini parse_ini(const std::string& text) {
    Ini ini;
    std::istringstream in(text);
    std::string line, current;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        if (line.front() == '[' && line.back() == ']') {
            current = line.substr(1, line.size() - 2);
            EXPECT_FALSE(ini.has(current)) << "section given twice: " << current;
            ini.order.push_back(current);
            ini.sections[current];
            continue;
        }
        EXPECT_FALSE(current.empty()) << "line outside a section: " << line;
        ini.sections[current].push_back(line);
    }
    return ini;
}

// Every group named as a child is defined: as a host group or as [G:children].
void expect_hierarchy_complete(const Ini& ini, const std::string& release) {
    std::set<std::string> defined;
    for (const auto& name : ini.order) {
        auto colon = name.find(':');
        defined.insert(name.substr(0, colon));
    }
    for (const auto& name : ini.order) {
        if (!name.ends_with(":children")) continue;
        for (const auto& child : ini[name]) {
            EXPECT_TRUE(defined.count(child))
                << release << ": [" << name << "] names undefined group " << child;
        }
    }
}

const std::string controller = "controller-node ansible_host=192.168.111.10";
const std::string network = "network-node ansible_host=192.168.111.11";
const std::string compute = "compute-node ansible_host=192.168.111.12";
using Lines = std::vector<std::string>;

}  // namespace

TEST(KollaTables, EveryPackstackReleaseHasOne) {
    auto names = deploy::kolla_release_names();
    ASSERT_EQ(names.size(), 16u);
    EXPECT_EQ(names.front(), "queens");
    EXPECT_EQ(names.back(), "master");
    for (const auto& r : names) {
        const deploy::KollaGroups* g = deploy::kolla_groups(r);
        ASSERT_NE(g, nullptr) << r;
        EXPECT_TRUE(g->origin.starts_with("kolla-ansible ")) << r << ": " << g->origin;
        EXPECT_GT(g->children.size(), 150u) << r;
        EXPECT_EQ(g->host_groups.front(), "control") << r;
    }
    EXPECT_EQ(deploy::kolla_groups("quens"), nullptr);
}

TEST(KollaInventory, TheRacksInterfacesAreItsVlanDevices) {
    auto f = load(slurp(fs::path(AIRSTRAP_SOURCE_DIR) / "examples/rack/site.yaml"));
    std::string g = deploy::render_kolla_inventory(f->site()).globals;
    EXPECT_NE(g.find("network_interface: \"bond0.120\"\n"), std::string::npos) << g;
    EXPECT_NE(g.find("neutron_external_interface: \"bond0.130\"\n"), std::string::npos) << g;
}

TEST(KollaInventory, Lab3HostGroupsQueens) {
    auto f = load(lab3_text());
    auto inv = deploy::render_kolla_inventory(f->site());
    Ini ini = parse_ini(inv.multinode);
    EXPECT_EQ(ini["control"], Lines{controller});
    EXPECT_EQ(ini["network"], Lines{network});
    // queens: compute is [compute:children] of inner-compute and external-compute.
    EXPECT_FALSE(ini.has("compute"));
    EXPECT_EQ(ini["compute:children"], (Lines{"inner-compute", "external-compute"}));
    EXPECT_EQ(ini["external-compute"], Lines{compute});
    EXPECT_TRUE(ini.has("inner-compute"));
    EXPECT_EQ(ini["inner-compute"], Lines{});
    EXPECT_EQ(ini["monitoring"], Lines{controller});
    EXPECT_EQ(ini["storage"], Lines{controller});
    EXPECT_EQ(ini["deployment"], Lines{"localhost ansible_connection=local"});
    EXPECT_EQ(ini["hyperv"], Lines{});
    // A few of kolla's own groups, as queens-eol's multinode has them.
    // kolla has no nova-compute group: its nova-compute container's group is compute.
    EXPECT_FALSE(ini.has("nova-compute:children"));
    EXPECT_EQ(ini["nova-compute-ironic:children"], Lines{"nova"});
    EXPECT_EQ(ini["nova:children"], Lines{"control"});
    EXPECT_EQ(ini["neutron-l3-agent:children"], Lines{"neutron"});
    EXPECT_EQ(ini["neutron:children"], Lines{"network"});
    EXPECT_EQ(ini["baremetal:children"],
              (Lines{"control", "network", "compute", "storage", "monitoring"}));
    EXPECT_EQ(ini["chrony-server:children"], Lines{"haproxy"});
    EXPECT_FALSE(ini.has("ovn-controller:children"));
    EXPECT_NE(inv.multinode.find("# Cinder's LVM volumes on the controller, as Packstack does"),
              std::string::npos);
    EXPECT_NE(inv.multinode.find("edit site.yaml, not this file"), std::string::npos);
    EXPECT_NE(inv.multinode.find("site lab3"), std::string::npos);
    expect_hierarchy_complete(ini, "queens");
}

TEST(KollaInventory, Lab3HostGroupsNewLayout) {
    auto f = load(replaced(lab3_text(), "release: queens", "release: \"2023.1\""));
    Ini ini = parse_ini(deploy::render_kolla_inventory(f->site()).multinode);
    EXPECT_EQ(ini["compute"], Lines{compute});
    EXPECT_FALSE(ini.has("external-compute"));
    EXPECT_FALSE(ini.has("compute:children"));
    EXPECT_FALSE(ini.has("hyperv"));
    EXPECT_EQ(ini["common:children"],
              (Lines{"control", "network", "compute", "storage", "monitoring"}));
    EXPECT_EQ(ini["loadbalancer:children"], Lines{"network"});
    EXPECT_EQ(ini["neutron-openvswitch-agent:children"], Lines{});  // kolla has none: openvswitch
    EXPECT_EQ(ini["openvswitch:children"], (Lines{"network", "compute", "manila-share"}));
    // The host groups come first, in kolla's order.
    EXPECT_EQ((Lines(ini.order.begin(), ini.order.begin() + 6)),
              (Lines{"control", "network", "compute", "monitoring", "storage", "deployment"}));
}

TEST(KollaInventory, HierarchyCompleteForEveryRelease) {
    std::string text = lab3_text();
    for (const auto& release : deploy::kolla_release_names()) {
        auto f = site::SiteFile::from_text(
            "site.yaml", replaced(text, "release: queens", "release: \"" + release + "\""),
            fs::path(AIRSTRAP_SOURCE_DIR) / "examples/lab3");
        auto inv = deploy::render_kolla_inventory(f->site());
        Ini ini = parse_ini(inv.multinode);
        const deploy::KollaGroups& g = *deploy::kolla_groups(release);
        for (const auto& [group, kids] : g.children) {
            EXPECT_EQ(ini[group + ":children"], kids) << release << " " << group;
        }
        EXPECT_EQ(ini.order.size(), g.host_groups.size() + g.children.size()) << release;
        expect_hierarchy_complete(ini, release);
        EXPECT_NE(inv.globals.find("openstack_release: \"" + release + "\"\n"), std::string::npos)
            << release;
    }
}

TEST(KollaGlobals, Lab3) {
    auto f = load(lab3_text());
    std::string g = deploy::render_kolla_inventory(f->site(), "examples/lab3/site.yaml").globals;
    for (const char* line : {
             "kolla_base_distro: \"centos\"\n",
             "kolla_install_type: \"binary\"\n",
             "openstack_release: \"queens\"\n",
             "kolla_internal_vip_address: \"192.168.111.10\"\n",
             "enable_haproxy: \"no\"\n",
             "network_interface: \"ens32\"\n",
             "neutron_external_interface: \"ens34\"\n",
             "neutron_plugin_agent: \"openvswitch\"",
             "enable_cinder: \"yes\"\n",
             "enable_cinder_backend_lvm: \"yes\"\n",
             "enable_swift: \"no\"  # site.yaml openstack.services.swift\n",
             "enable_aodh: \"no\"  # site.yaml openstack.services.aodh\n",
             "enable_ceilometer: \"yes\"  # Packstack's default (CONFIG_CEILOMETER_INSTALL)\n",
             "enable_heat: \"no\"",
             "enable_neutron_lbaas: \"no\"",  // queens still has LBaaS
             "nova_compute_virt_type: \"kvm\"\n",
             "#docker_registry: ",
             "kolla-genpwd",
             "Generated by airstrap from examples/lab3/site.yaml; edit site.yaml, not this file",
             "compute-node: a VM with nested KVM",
             "Left out, kolla-ansible queens has no switch for them: demo.",
         }) {
        EXPECT_NE(g.find(line), std::string::npos) << line << "\n" << g;
    }
    EXPECT_EQ(g.find("\ndocker_registry:"), std::string::npos);       // only the placeholder
    EXPECT_EQ(g.find("enable_neutron_metering"), std::string::npos);  // not in queens
}

TEST(KollaGlobals, ServicesMapping) {
    std::string text = replaced(lab3_text(), "    demo: false", "    demo: false\n    heat: true");
    text = replaced(text, "release: queens", "release: \"2025.1\"");
    text = replaced(text, "swift: false", "swift: true");
    auto f = site::SiteFile::from_text("site.yaml", text,
                                       fs::path(AIRSTRAP_SOURCE_DIR) / "examples/lab3");
    std::string g = deploy::render_kolla_inventory(f->site()).globals;
    EXPECT_NE(g.find("enable_heat: \"yes\"  # site.yaml openstack.services.heat\n"),
              std::string::npos)
        << g;
    EXPECT_EQ(g.find("enable_swift"), std::string::npos);  // kolla 2025.1 has no swift
    EXPECT_NE(g.find("Not deployed by kolla although site.yaml turns them on: swift."),
              std::string::npos);
    EXPECT_EQ(g.find("enable_panko"), std::string::npos);
    EXPECT_EQ(g.find("enable_neutron_lbaas"), std::string::npos);
    EXPECT_NE(g.find("enable_neutron_metering: \"yes\""), std::string::npos);
    EXPECT_EQ(g.find("kolla_install_type"), std::string::npos);  // gone since zed
    EXPECT_NE(g.find("kolla_base_distro: \"rocky\"\n"), std::string::npos);

    text = replaced(lab3_text(), "    demo: false", "    demo: false\n    cinder: false");
    g = deploy::render_kolla_inventory(load(text)->site()).globals;
    EXPECT_NE(g.find("enable_cinder: \"no\"\n"), std::string::npos);
    EXPECT_NE(g.find("enable_cinder_backend_lvm: \"no\"\n"), std::string::npos);
}

TEST(KollaGlobals, OvnAgainstOvs) {
    auto ovn = load(slurp(fs::path(AIRSTRAP_TEST_DATA) / "sites/lab3-el9.yaml"));
    ASSERT_EQ(ovn->site().openstack.l2_agent, site::L2Agent::ovn);
    auto inv = deploy::render_kolla_inventory(ovn->site());
    EXPECT_NE(inv.globals.find("neutron_plugin_agent: \"ovn\""), std::string::npos);
    EXPECT_NE(inv.globals.find("openstack_release: \"2024.1\"\n"), std::string::npos);
    Ini ini = parse_ini(inv.multinode);
    EXPECT_EQ(ini["ovn-controller-network:children"], Lines{"network"});
    EXPECT_EQ(ini["ovn-controller-compute:children"], Lines{"compute"});
    EXPECT_EQ(ini["ovn-database:children"], Lines{"control"});
    EXPECT_EQ(ini["compute"], Lines{compute});

    auto ovs = load(lab3_text());
    EXPECT_NE(deploy::render_kolla_inventory(ovs->site())
                  .globals.find("neutron_plugin_agent: \"openvswitch\""),
              std::string::npos);

    // OVN arrived in kolla-ansible ussuri.
    auto old = site::SiteFile::from_text(
        "site.yaml", replaced(lab3_text(), "l2_agent: openvswitch", "l2_agent: ovn"),
        fs::path(AIRSTRAP_SOURCE_DIR) / "examples/lab3");
    try {
        deploy::render_kolla_inventory(old->site());
        FAIL() << "queens with OVN accepted";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("ussuri"), std::string::npos) << e.what();
    }
}

TEST(KollaInventory, HostVariablesWhereANodeDiffers) {
    std::string text = replaced(lab3_text(), "{name: ens32, mac: \"00:0c:29:5e:12:12\"",
                                "{name: eth0, mac: \"00:0c:29:5e:12:12\"");
    Ini ini = parse_ini(deploy::render_kolla_inventory(load(text)->site()).multinode);
    EXPECT_EQ(ini["external-compute"], Lines{compute + " network_interface=eth0"});
    EXPECT_EQ(ini["control"], Lines{controller});
}

TEST(KollaInventory, Errors) {
    auto f = load(lab3_text());
    site::Site s = f->site();
    s.openstack.release = "quens";
    try {
        deploy::render_kolla_inventory(s);
        FAIL() << "unknown release accepted";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("kolla-ansible has no release 'quens'"),
                  std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find("did you mean 'queens'"), std::string::npos);
    }

    site::Site headless = f->site();
    std::erase_if(headless.nodes,
                  [](const site::Node& n) { return n.role == site::Role::controller; });
    try {
        deploy::render_kolla_inventory(headless);
        FAIL() << "site without a controller accepted";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("no node with role controller"), std::string::npos)
            << e.what();
    }
}

TEST(KollaInventory, WritesBothFiles) {
    auto f = load(lab3_text());
    fs::path dir = fs::temp_directory_path() / ("kolla_test." + std::to_string(::getpid()));
    fs::remove_all(dir);
    deploy::write_kolla_inventory(f->site(), dir / "new" / "kolla");
    auto inv = deploy::render_kolla_inventory(f->site());
    for (const auto& [name, text] :
         {std::pair{"multinode", inv.multinode}, std::pair{"globals.yml", inv.globals}}) {
        fs::path p = dir / "new" / "kolla" / name;
        EXPECT_EQ(slurp(p), text) << name;
        struct stat st {};
        ASSERT_EQ(::stat(p.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 07777, 0644u) << name;
    }
    EXPECT_EQ(std::distance(fs::directory_iterator(dir / "new" / "kolla"), {}), 2);

    // Below a regular file: an error, and nothing written.
    std::ofstream(dir / "file") << "x";
    EXPECT_THROW(deploy::write_kolla_inventory(f->site(), dir / "file" / "kolla"), Error);
    EXPECT_EQ(std::distance(fs::directory_iterator(dir), {}), 2);  // new/, file
    fs::remove_all(dir);
}
