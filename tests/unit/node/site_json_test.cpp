#include "node/site_json.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "site/site_file.hpp"
#include "site/site_json.hpp"

namespace airstrap::node {
namespace {

Site lab3_site() {
    auto file = site::SiteFile::load(std::string(AIRSTRAP_SOURCE_DIR) + "/examples/lab3/site.yaml");
    EXPECT_TRUE(file->ok()) << file->diag().render();
    return site::node_site(file->site(), airstrap::crypto::Bytes(32, 0x42));
}

nlohmann::json lab3_json() {
    return nlohmann::json::parse(site_json_text(lab3_site()));
}

void expect_error(nlohmann::json j, const std::string& text) {
    try {
        parse_site_json(j.dump());
        ADD_FAILURE() << "accepted";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
}

TEST(SiteJson, ANodeSeesTheDeviceThatCarriesEachNetwork) {
    auto file = site::SiteFile::load(std::string(AIRSTRAP_SOURCE_DIR) + "/examples/rack/site.yaml");
    ASSERT_TRUE(file->ok()) << file->diag().render();
    Site v = parse_site_json(
        site_json_text(site::node_site(file->site(), airstrap::crypto::Bytes(32, 0x42))));
    const Node* cmp1 = v.node("cmp1");
    ASSERT_NE(cmp1, nullptr);
    ASSERT_EQ(cmp1->interfaces.size(), 3u);
    EXPECT_EQ(cmp1->interfaces[2].name, "bond0.122");
    EXPECT_EQ(cmp1->interfaces[2].mac, "");  // a bond's members have the MACs
    EXPECT_EQ(*cmp1->interfaces[2].address, "10.20.2.21");
    EXPECT_EQ(v.address(*cmp1), "10.20.0.21");
    const Interface* ext = v.external_interface(*v.node("net1"));
    ASSERT_NE(ext, nullptr);
    EXPECT_EQ(ext->name, "bond0.130");
    EXPECT_EQ(ext->bridge, "br-ex");
}

TEST(SiteJson, ReadsTheLab3SiteAsTheKickstartWritesIt) {
    Site v = parse_site_json(lab3_json().dump(1));
    EXPECT_EQ(v.site.name, "lab3");
    EXPECT_EQ(v.site.distro, "el7");
    EXPECT_EQ(v.management_cidr(), "192.168.111.0/24");
    EXPECT_EQ(v.management_broadcast(), "192.168.111.255");
    EXPECT_EQ(v.firstboot.port, 7447);
    EXPECT_FALSE(v.security.firewalld);
    EXPECT_FALSE(v.security.network_manager);
    EXPECT_EQ(v.security.selinux, "disabled");
    ASSERT_EQ(v.nodes.size(), 3u);
    EXPECT_EQ(v.controller().name, "controller-node");
    EXPECT_EQ(v.address(v.controller()), "192.168.111.10");
    const Node* net = v.node("network-node");
    ASSERT_NE(net, nullptr);
    EXPECT_EQ(net->role, Role::network);
    EXPECT_EQ(v.address(*net), "192.168.111.11");
    ASSERT_NE(v.external_interface(*net), nullptr);
    EXPECT_EQ(v.external_interface(*net)->name, "ens34");
    EXPECT_EQ(v.external_interface(*net)->bridge, "br-ex");
    EXPECT_EQ(v.external_interface(*v.node("compute-node")), nullptr);
    EXPECT_TRUE(v.node("compute-node")->nested_virtualization);
    EXPECT_EQ(v.fqdn(*v.node("compute-node")), "compute-node.lab.local");
}

// The writer and the reader walk the same fields(): what site/ fills is what the daemon
// gets back, field for field, and the bytes survive a second trip. Every site below sets
// fields away from their defaults (two networks with DNS and gateways, an external network
// with pools, every cloud list), so a member that fields() forgets makes the sites differ.
TEST(SiteJson, EveryFieldTheBuildSideWritesTheDaemonReadsBack) {
    for (const char* name : {"examples/lab3/site.yaml", "tests/data/sites/lab3-el8.yaml",
                             "tests/data/sites/lab3-el9.yaml"}) {
        SCOPED_TRACE(name);
        auto file = site::SiteFile::load(std::string(AIRSTRAP_SOURCE_DIR) + "/" + name);
        ASSERT_TRUE(file->ok()) << file->diag().render();
        Site written = site::node_site(file->site(), airstrap::crypto::Bytes(32, 0x42));
        std::string text = site_json_text(written);
        Site read = parse_site_json(text);
        EXPECT_TRUE(read == written);
        EXPECT_EQ(site_json_text(read), text);
    }
    // The same with every optional value set and every default changed.
    Site s = lab3_site();
    s.site.timezone = "Asia/Shanghai";
    s.networks.begin()->second.gateway = "192.168.111.1";
    s.networks.begin()->second.dns = {"192.168.111.2"};
    s.networks.begin()->second.mtu = 9000;
    s.nodes[0].interfaces[0].mac = "52:54:00:00:00:10";
    s.nodes[0].interfaces[0].bridge = "br-mgmt";
    s.security = {"permissive", true, true};
    s.time = {{"192.168.111.1", "192.168.111.2"}, 3};
    s.firstboot = {7448, 60, 30, 3600, std::string(64, 'a')};
    s.openstack.deployer = "packstack";
    s.openstack.services["swift"] = true;
    s.openstack.answers["CONFIG_DEBUG_MODE"] = "y";
    s.openstack.cinder_volumes_size = "40G";
    s.ssh.authorized_keys = {"ssh-ed25519 AAAA operator"};
    s.cloud.external_network->gateway = "192.168.222.1";
    s.cloud.external_network->dns = {"192.168.222.2"};
    s.cloud.external_network->allocation_pools.push_back({"192.168.222.210", "192.168.222.220"});
    s.cloud.networks[0].gateway = "10.10.10.254";
    s.cloud.routers[0].external_gateway = false;
    s.cloud.flavors[0] = {"m1.big", 8, 16384, 80, false};
    s.cloud.images[0].disk_format = "raw";
    s.cloud.images[0].is_public = false;
    s.cloud.projects[0].description = "another";
    s.cloud.users[0].role = "admin";
    std::string text = site_json_text(s);
    Site read = parse_site_json(text);
    EXPECT_TRUE(read == s);
    EXPECT_EQ(site_json_text(read), text);
}

TEST(SiteJson, RefusesUnknownKeysNamingThem) {
    auto j = lab3_json();
    j["security"]["sellinux"] = "disabled";
    expect_error(j, "site.json: security: unknown key 'sellinux'");
    j = lab3_json();
    j["nodes"][1]["interfaces"][0]["vlan"] = 10;
    expect_error(j, "site.json: nodes[1].interfaces[0]: unknown key 'vlan'");
    j = lab3_json();
    j["extra"] = true;
    expect_error(j, "site.json: (document): unknown key 'extra'");
    j = lab3_json();
    j["format"] = 2;
    expect_error(j, "site.json: format: expected 1");
    j = lab3_json();
    j["cloud"]["users"][0].erase("role");
    expect_error(j, "site.json: cloud.users[0]: missing key 'role'");
}

TEST(SiteJson, RejectsWhatItCannotUseWithThePath) {
    auto j = lab3_json();
    j.erase("firstboot");
    expect_error(j, "site.json: (document): missing key 'firstboot'");
    j = lab3_json();
    j["nodes"][2]["interfaces"][0]["address"] = "192.168.111";
    expect_error(j, "nodes[2].interfaces[0].address: expected the node's IPv4 address");
    j = lab3_json();
    j["nodes"][0]["role"] = "compute";
    expect_error(j, "nodes: expected exactly one controller");
    j = lab3_json();
    j["firstboot"]["port"] = 70000;
    expect_error(j, "firstboot.port: expected a whole number from 1 to 65535");
    j = lab3_json();
    j["nodes"][1]["name"] = "controller-node";
    expect_error(j, "'controller-node' appears twice");
    expect_error(nlohmann::json("text"), "expected an object");
    try {
        parse_site_json("{\"format\":1,");
        ADD_FAILURE();
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos);
    }
}

TEST(SiteJson, ReadsEveryFieldOfTheCloud) {
    Site v = parse_site_json(lab3_json().dump(1));
    EXPECT_EQ(v.openstack.release, "queens");
    EXPECT_EQ(v.openstack.l2_agent, "openvswitch");
    const node::Cloud& c = v.cloud;
    EXPECT_FALSE(c.empty());
    ASSERT_TRUE(c.external_network);
    const CloudExternalNetwork& ext = *c.external_network;
    EXPECT_EQ(ext.name, "external_network");
    EXPECT_EQ(ext.subnet, "external_subnet");
    EXPECT_EQ(ext.cidr, "192.168.222.0/24");
    EXPECT_EQ(ext.gateway, "");
    EXPECT_EQ(ext.physical_network, "extnet");
    ASSERT_EQ(ext.allocation_pools.size(), 1u);
    EXPECT_EQ(ext.allocation_pools[0].start, "192.168.222.100");
    EXPECT_EQ(ext.allocation_pools[0].end, "192.168.222.200");
    EXPECT_TRUE(ext.dns.empty());
    ASSERT_EQ(c.networks.size(), 1u);
    EXPECT_EQ(c.networks[0].name, "uat_network");
    EXPECT_EQ(c.networks[0].subnet, "uat_network_subnet");
    EXPECT_EQ(c.networks[0].cidr, "10.10.10.0/24");
    EXPECT_EQ(c.networks[0].gateway, "");
    EXPECT_EQ(c.networks[0].project, "uat");
    ASSERT_EQ(c.routers.size(), 1u);
    EXPECT_EQ(c.routers[0].name, "uat_network_router");
    EXPECT_EQ(c.routers[0].project, "uat");
    EXPECT_TRUE(c.routers[0].external_gateway);
    EXPECT_EQ(c.routers[0].subnets, std::vector<std::string>{"uat_network_subnet"});
    ASSERT_EQ(c.flavors.size(), 1u);
    EXPECT_EQ(c.flavors[0].name, "m1.nano");
    EXPECT_EQ(c.flavors[0].vcpus, 1);
    EXPECT_EQ(c.flavors[0].ram, 128);
    EXPECT_EQ(c.flavors[0].disk, 1);
    EXPECT_TRUE(c.flavors[0].is_public);
    ASSERT_EQ(c.images.size(), 1u);
    EXPECT_EQ(c.images[0].name, "cirros-0.3.4-x86_64");
    EXPECT_EQ(c.images[0].file, "images/cirros-0.3.4-x86_64-disk.img");
    EXPECT_EQ(c.images[0].disk_format, "qcow2");
    EXPECT_EQ(c.images[0].container_format, "bare");
    EXPECT_TRUE(c.images[0].is_public);
    ASSERT_EQ(c.projects.size(), 1u);
    EXPECT_EQ(c.projects[0].name, "uat");
    EXPECT_EQ(c.projects[0].description, "UAT tenant");
    ASSERT_EQ(c.users.size(), 1u);
    EXPECT_EQ(c.users[0].name, "uat");
    EXPECT_EQ(c.users[0].project, "uat");
    EXPECT_EQ(c.users[0].role, "_member_");
}

TEST(SiteJson, SetValuesOfTheCloudArriveToo) {
    auto j = lab3_json();
    auto& c = j["cloud"];
    c["external_network"]["gateway"] = "192.168.222.1";
    c["external_network"]["dns"] = {"192.168.222.2", "192.168.222.3"};
    c["networks"][0]["gateway"] = "10.10.10.254";
    c["flavors"][0]["public"] = false;
    c["images"][0]["public"] = false;
    c["images"][0]["disk_format"] = "raw";
    Site v = parse_site_json(j.dump());
    EXPECT_EQ(v.cloud.external_network->gateway, "192.168.222.1");
    EXPECT_EQ(v.cloud.external_network->dns,
              (std::vector<std::string>{"192.168.222.2", "192.168.222.3"}));
    EXPECT_EQ(v.cloud.networks[0].gateway, "10.10.10.254");
    EXPECT_FALSE(v.cloud.flavors[0].is_public);
    EXPECT_FALSE(v.cloud.images[0].is_public);
    EXPECT_EQ(v.cloud.images[0].disk_format, "raw");
}

TEST(SiteJson, NoCloudSectionInSiteYamlIsAnEmptyCloud) {
    auto j = lab3_json();
    for (const char* list : {"networks", "routers", "flavors", "images", "projects", "users"})
        j["cloud"][list] = nlohmann::json::array();
    j["cloud"]["external_network"] = nullptr;
    Site v = parse_site_json(j.dump());
    EXPECT_TRUE(v.cloud.empty());
    EXPECT_FALSE(v.cloud.external_network);
}

TEST(SiteJson, RejectsACloudItCannotUse) {
    auto j = lab3_json();
    j.erase("cloud");
    expect_error(j, "site.json: (document): missing key 'cloud'");
    j = lab3_json();
    j["openstack"]["l2_agent"] = "linuxbridge";
    expect_error(j, "openstack.l2_agent: expected openvswitch or ovn");
    j = lab3_json();
    j["cloud"]["flavors"][0]["vcpus"] = "1";
    expect_error(j, "cloud.flavors[0].vcpus: expected a whole number");
    j = lab3_json();
    j["cloud"]["flavors"][0]["vcpus"] = 0;
    expect_error(j, "cloud.flavors[0].vcpus: expected a whole number from 1 to 1024");
    j = lab3_json();
    j["cloud"]["routers"][0]["external_gateway"] = "true";
    expect_error(j, "cloud.routers[0].external_gateway: expected true or false");
    j = lab3_json();
    j["cloud"]["networks"] = nlohmann::json::object();
    expect_error(j, "cloud.networks: expected a list");
    j = lab3_json();
    j["cloud"]["external_network"]["allocation_pools"][0]["start"] = "192.168.222";
    expect_error(j, "cloud.external_network.allocation_pools[0].start: expected an IPv4 address");
    j = lab3_json();
    j["cloud"]["networks"][0]["cidr"] = "10.10.10.0";
    expect_error(j, "cloud.networks[0].cidr: expected a.b.c.d/n");
    j = lab3_json();
    j["cloud"]["users"][0]["name"] = "--os-password";
    expect_error(j, "cloud.users[0].name: expected a name");
    j = lab3_json();
    j["cloud"]["images"][0]["container_format"] = "ova";
    expect_error(j, "cloud.images[0].container_format: expected bare");
    for (const char* file : {"../../etc/shadow", "images/../../etc/shadow", "/etc/shadow",
                             "images//x.img", "./x.img", ""}) {
        j = lab3_json();
        j["cloud"]["images"][0]["file"] = file;
        expect_error(j,
                     "cloud.images[0].file: expected a relative path inside the repository, "
                     "without '..'");
    }
}

}  // namespace
}  // namespace airstrap::node
