// The cloud: section (day-1 resources): lab3's day-1 as parsed, the defaults, the rules the
// broken corpus cannot show by a message alone, and the "cloud" object of site.json.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "site/site_file.hpp"
#include "site/site_json.hpp"
#include "tests/unit/test_support.hpp"

namespace fs = std::filesystem;
using namespace airstrap::site;
using nlohmann::json;

using airstrap::testutil::lab3_text;
using airstrap::testutil::replaced;

namespace {

// site.json as the kickstart writes it.
json to_json(const Site& site) {
    return json::parse(
        airstrap::node::site_json_text(node_site(site, airstrap::crypto::Bytes(32, 0x42))));
}

std::unique_ptr<SiteFile> lab3(const std::string& text = lab3_text()) {
    return SiteFile::from_text("site.yaml", text, "/srv/lab3");
}

// lab3 with its cloud: section replaced by `cloud` (empty: none at all).
std::string with_cloud(const std::string& cloud, std::string text = lab3_text()) {
    auto from = text.find("# The seed's day-1");
    auto to = text.find("ssh:\n");
    EXPECT_NE(from, std::string::npos);
    EXPECT_NE(to, std::string::npos);
    text.replace(from, to - from, cloud.empty() ? "" : cloud + "\n");
    return text;
}

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

const std::string missing_image_warning =
    "site.yaml:94:43: warning: image file /srv/lab3/images/cirros-0.3.4-x86_64-disk.img is not "
    "there yet; 'airstrap mirror' copies it into the site repository and needs it\n"
    "        - {name: cirros-0.3.4-x86_64, source: images/cirros-0.3.4-x86_64-disk.img,\n"
    "                                              ^\n";

TEST(Cloud, Lab3CarriesTheSeedsDayOne) {
    auto f = lab3();
    ASSERT_TRUE(f->ok()) << f->diag().render();
    const Cloud& c = f->site().cloud;
    ASSERT_TRUE(c.external_network);
    const CloudExternalNetwork& en = *c.external_network;
    EXPECT_EQ(en.name, "external_network");
    EXPECT_EQ(en.network, "external");
    EXPECT_EQ(en.physical_network, "extnet");
    EXPECT_EQ(en.subnet, "external_subnet");
    ASSERT_TRUE(en.allocation_pool);
    EXPECT_EQ(en.allocation_pool->first.str(), "192.168.222.100");
    EXPECT_EQ(en.allocation_pool->second.str(), "192.168.222.200");
    EXPECT_FALSE(en.gateway);
    ASSERT_EQ(c.networks.size(), 1u);
    EXPECT_EQ(c.networks[0].name, "uat_network");
    EXPECT_EQ(c.networks[0].subnet, "uat_network_subnet");
    EXPECT_EQ(c.networks[0].cidr.str(), "10.10.10.0/24");
    EXPECT_EQ(c.networks[0].project, "uat");
    ASSERT_EQ(c.routers.size(), 1u);
    EXPECT_EQ(c.routers[0].name, "uat_network_router");
    EXPECT_TRUE(c.routers[0].external_gateway);
    EXPECT_EQ(c.routers[0].subnets, std::vector<std::string>{"uat_network_subnet"});
    EXPECT_EQ(c.routers[0].project, "uat");
    ASSERT_EQ(c.flavors.size(), 1u);
    EXPECT_EQ(c.flavors[0].name, "m1.nano");
    EXPECT_EQ(c.flavors[0].vcpus, 1);
    EXPECT_EQ(c.flavors[0].ram, 128);
    EXPECT_EQ(c.flavors[0].disk, 1);
    EXPECT_TRUE(c.flavors[0].is_public);
    ASSERT_EQ(c.images.size(), 1u);
    EXPECT_EQ(c.images[0].name, "cirros-0.3.4-x86_64");
    EXPECT_EQ(c.images[0].source, "/srv/lab3/images/cirros-0.3.4-x86_64-disk.img");
    EXPECT_EQ(c.images[0].file(), "images/cirros-0.3.4-x86_64-disk.img");
    EXPECT_EQ(c.images[0].disk_format, "qcow2");
    EXPECT_EQ(c.images[0].container_format, "bare");
    ASSERT_EQ(c.projects.size(), 1u);
    EXPECT_EQ(c.projects[0].name, "uat");
    EXPECT_EQ(c.projects[0].description, "UAT tenant");
    ASSERT_EQ(c.users.size(), 1u);
    EXPECT_EQ(c.users[0].name, "uat");
    EXPECT_EQ(c.users[0].project, "uat");
    EXPECT_EQ(c.users[0].role, "_member_");  // queens
}

// A fresh clone has no image yet: validate warns, and the README's commands still work.
TEST(Cloud, MissingImageFileIsOnlyAWarning) {
    auto f = lab3();
    EXPECT_TRUE(f->ok());
    EXPECT_EQ(f->diag().render(), missing_image_warning);
}

TEST(Cloud, ImageBesideTheSiteFileGivesNoWarning) {
    fs::path dir = fs::temp_directory_path() / ("airstrap-cloud-" + std::to_string(::getpid()));
    fs::create_directories(dir / "images");
    std::ofstream(dir / "images/cirros-0.3.4-x86_64-disk.img") << "QFI\xfb";
    auto f = SiteFile::from_text("site.yaml", lab3_text(), dir);
    EXPECT_TRUE(f->ok());
    EXPECT_EQ(f->diag().render(), "");
    fs::remove_all(dir);
}

TEST(Cloud, DefaultsOfAShortSection) {
    std::string text = with_cloud(
        "cloud:\n"
        "  external_network: {name: ext, network: external, "
        "allocation_pool: 192.168.222.100-192.168.222.200}\n"
        "  networks: [{name: n1, cidr: 10.1.0.0/24}]\n"
        "  routers: [{name: r1, subnets: [n1_subnet]}]\n"
        "  flavors: [{name: f1}]\n"
        "  images: [{name: i1, source: /srv/images/i1.raw}]\n"
        "  projects: [{name: p1}]\n"
        "  users: [{name: u1, project: p1}]\n",
        replaced(lab3_text(), "release: queens", "release: stein"));
    auto f = lab3(text);
    ASSERT_TRUE(f->ok()) << f->diag().render();
    const Cloud& c = f->site().cloud;
    EXPECT_EQ(c.external_network->subnet, "ext_subnet");
    EXPECT_EQ(c.external_network->physical_network, "extnet");
    EXPECT_EQ(c.networks[0].subnet, "n1_subnet");
    EXPECT_EQ(c.networks[0].project, "admin");
    EXPECT_FALSE(c.networks[0].gateway);
    EXPECT_FALSE(c.routers[0].external_gateway);
    EXPECT_EQ(c.routers[0].project, "admin");
    EXPECT_EQ(c.flavors[0].vcpus, 1);
    EXPECT_EQ(c.flavors[0].ram, 512);
    EXPECT_EQ(c.flavors[0].disk, 1);
    EXPECT_TRUE(c.flavors[0].is_public);
    EXPECT_EQ(c.images[0].disk_format, "qcow2");
    EXPECT_TRUE(c.images[0].is_public);
    EXPECT_EQ(c.projects[0].description, "");
    EXPECT_EQ(c.users[0].role, "member");  // stein
}

TEST(Cloud, MemberRoleFollowsTheRelease) {
    EXPECT_EQ(default_member_role("queens"), "_member_");
    EXPECT_EQ(default_member_role("rocky"), "_member_");
    EXPECT_EQ(default_member_role("stein"), "member");
    EXPECT_EQ(default_member_role("2024.1"), "member");
    EXPECT_EQ(default_member_role("master"), "member");
}

TEST(Cloud, NoCloudSectionIsEmpty) {
    auto f = lab3(with_cloud(""));
    ASSERT_TRUE(f->ok()) << f->diag().render();
    EXPECT_EQ(f->diag().render(), "");
    EXPECT_EQ(to_json(f->site())["cloud"],
              json::parse(R"({"external_network": null, "networks": [], "routers": [],
                              "flavors": [], "images": [], "projects": [], "users": []})"));
}

TEST(Cloud, WithoutAPoolNeutronMayTakeANodesAddressSoItWarns) {
    auto f = lab3(replaced(lab3_text(),
                           "    allocation_pool: 192.168.222.100-192.168.222.200   # leaves "
                           "network-node's .11 out\n",
                           ""));
    EXPECT_TRUE(f->ok()) << f->diag().render();
    EXPECT_TRUE(has(f->diag().render(),
                    "site.yaml:80:5: warning: no allocation_pool: Neutron may hand out all of "
                    "192.168.222.0/24, including 192.168.222.11 (network-node's address); set one "
                    "that leaves the nodes out\n"))
        << f->diag().render();
}

TEST(Cloud, PoolMustLeaveTheSiteGatewayOut) {
    std::string text = replaced(lab3_text(), "    cidr: 192.168.222.0/24\n",
                                "    cidr: 192.168.222.0/24\n    gateway: 192.168.222.150\n");
    auto f = lab3(text);
    EXPECT_FALSE(f->ok());
    EXPECT_TRUE(has(f->diag().render(),
                    "error: allocation pool 192.168.222.100-192.168.222.200 contains "
                    "192.168.222.150 (the gateway)"))
        << f->diag().render();
}

TEST(Cloud, ExternalGatewayDefaultsToTheSiteNetworks) {
    std::string text = replaced(lab3_text(), "    cidr: 192.168.222.0/24\n",
                                "    cidr: 192.168.222.0/24\n    gateway: 192.168.222.1\n");
    auto f = lab3(text);
    ASSERT_TRUE(f->ok()) << f->diag().render();
    EXPECT_EQ(to_json(f->site())["cloud"]["external_network"]["gateway"], "192.168.222.1");
    auto g = lab3(replaced(text, "    subnet: external_subnet\n",
                           "    subnet: external_subnet\n    gateway: 192.168.222.254\n"));
    ASSERT_TRUE(g->ok()) << g->diag().render();
    EXPECT_EQ(to_json(g->site())["cloud"]["external_network"]["gateway"], "192.168.222.254");
}

TEST(Cloud, TenantNetworkMustNotOverlapTheExternalNetwork) {
    auto f = lab3(replaced(lab3_text(), "cidr: 10.10.10.0/24", "cidr: 192.168.222.128/25"));
    EXPECT_FALSE(f->ok());
    EXPECT_TRUE(has(f->diag().render(),
                    "error: tenant network uat_network (192.168.222.128/25) overlaps the site's "
                    "external network external (192.168.222.0/24)"))
        << f->diag().render();
}

TEST(Cloud, ASubnetIsOnOneRouterOnly) {
    auto f = lab3(replaced(lab3_text(), "       project: uat}\n",
                           "       project: uat}\n"
                           "    - {name: second_router, subnets: [uat_network_subnet]}\n"));
    EXPECT_FALSE(f->ok());
    EXPECT_TRUE(has(f->diag().render(),
                    "error: subnet uat_network_subnet is already on router uat_network_router "
                    "(line 87); its gateway address can be on one router only"))
        << f->diag().render();
}

TEST(Cloud, PackstacksOwnFlavorNamesWarn) {
    auto f = lab3(replaced(lab3_text(), "{name: m1.nano,", "{name: m1.tiny,"));
    EXPECT_TRUE(f->ok());
    EXPECT_TRUE(has(f->diag().render(),
                    "warning: Packstack creates flavor m1.tiny itself, and the day-1 step never "
                    "changes an existing flavor: these values are not applied"))
        << f->diag().render();
}

TEST(Cloud, DemoIsAcceptedWhenTheSiteBringsAnImage) {
    auto f = lab3(replaced(lab3_text(), "demo: false", "demo: true"));
    EXPECT_TRUE(f->ok()) << f->diag().render();
}

TEST(Cloud, NullSectionAndNullListsAreNothing) {
    auto f = lab3(with_cloud("cloud:\n"));
    EXPECT_TRUE(f->ok()) << f->diag().render();
    auto g = lab3(with_cloud("cloud:\n  networks:\n  users: []\n"));
    EXPECT_TRUE(g->ok()) << g->diag().render();
    EXPECT_TRUE(g->site().cloud.networks.empty());
}

TEST(Cloud, WrongTypesAreReportedWithThePath) {
    auto f =
        lab3(with_cloud("cloud:\n  networks: {name: n1}\n  flavors: [{name: f, public: yes}]\n"));
    std::string out = f->diag().render();
    EXPECT_TRUE(has(out,
                    "site.yaml:76:13: error: expected a list for 'cloud.networks', got a "
                    "mapping"))
        << out;
    EXPECT_TRUE(has(out, "error: expected true or false for 'cloud.flavors[0].public', got 'yes'"))
        << out;
}

// ---- site.json -----------------------------------------------------------------------------

TEST(SiteJsonCloud, Lab3GivesExactlyThisObject) {
    json j = to_json(lab3()->site());
    EXPECT_EQ(j["cloud"], json::parse(R"({
        "external_network": {"name": "external_network", "subnet": "external_subnet",
                             "physical_network": "extnet", "cidr": "192.168.222.0/24",
                             "gateway": "",
                             "allocation_pools": [{"start": "192.168.222.100",
                                                   "end": "192.168.222.200"}],
                             "dns": []},
        "networks": [{"name": "uat_network", "subnet": "uat_network_subnet",
                      "cidr": "10.10.10.0/24", "gateway": "", "dns": [], "project": "uat"}],
        "routers": [{"name": "uat_network_router", "external_gateway": true,
                     "subnets": ["uat_network_subnet"], "project": "uat"}],
        "flavors": [{"name": "m1.nano", "vcpus": 1, "ram": 128, "disk": 1, "public": true}],
        "images": [{"name": "cirros-0.3.4-x86_64", "file": "images/cirros-0.3.4-x86_64-disk.img",
                    "disk_format": "qcow2", "container_format": "bare", "public": true}],
        "projects": [{"name": "uat", "description": "UAT tenant"}],
        "users": [{"name": "uat", "project": "uat", "role": "_member_"}]
    })"));
    EXPECT_EQ(j["openstack"]["release"], "queens");
    EXPECT_EQ(j["openstack"]["l2_agent"], "openvswitch");
    std::string text = j.dump();
    EXPECT_FALSE(has(text, "password"));
    EXPECT_FALSE(has(text, "/srv/lab3"));  // the build host's paths stay on the build host
}

}  // namespace
