// The example site parses into exactly the seed's lab, and the validator's rules that the
// broken corpus cannot show by a message alone.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "site/site_file.hpp"
#include "site/site_json.hpp"
#include "site/syntax.hpp"
#include "tests/unit/test_support.hpp"

namespace fs = std::filesystem;
using namespace airstrap::site;

using airstrap::testutil::lab3_text;
using airstrap::testutil::replaced;

namespace {

std::unique_ptr<SiteFile> lab3(const std::string& text = lab3_text()) {
    return SiteFile::from_text("site.yaml", text, "/srv/lab3");
}

TEST(Lab3, IsValidWithoutWarnings) {
    auto f = lab3();
    EXPECT_TRUE(f->ok());
    // Except that its cirros image is not in a fresh clone (cloud_test.cpp).
    for (const auto& d : f->diag().all()) {
        EXPECT_TRUE(d.message.starts_with("image file /srv/lab3/images/")) << d.message;
    }
}

TEST(Lab3, ReproducesTheSeedLab) {
    auto f = lab3();
    const Site& s = f->site();
    EXPECT_EQ(s.name, "lab3");
    EXPECT_EQ(s.distro, Distro::el7);
    EXPECT_EQ(s.timezone, "Asia/Shanghai");
    EXPECT_EQ(s.rtc, Rtc::local);
    ASSERT_EQ(s.nodes.size(), 3u);
    const Node* controller = s.controller();
    ASSERT_NE(controller, nullptr);
    EXPECT_EQ(controller->name, "controller-node");
    EXPECT_EQ(s.management_address(*controller)->str(), "192.168.111.10");
    auto network = s.nodes_with_role(Role::network);
    ASSERT_EQ(network.size(), 1u);
    EXPECT_EQ(s.management_address(*network[0])->str(), "192.168.111.11");
    const Interface* ext = network[0]->interface_on("external");
    ASSERT_NE(ext, nullptr);
    EXPECT_EQ(ext->name, "ens34");
    EXPECT_EQ(ext->bridge, "br-ex");
    EXPECT_EQ(ext->address->str(), "192.168.222.11");
    EXPECT_EQ(ext->mac, "00:0c:29:2c:6f:79");
    auto compute = s.nodes_with_role(Role::compute);
    ASSERT_EQ(compute.size(), 1u);
    EXPECT_EQ(s.management_address(*compute[0])->str(), "192.168.111.12");
    EXPECT_TRUE(compute[0]->nested_virtualization);
    EXPECT_EQ(s.management_network()->cidr.str(), "192.168.111.0/24");
    EXPECT_EQ(s.network("external")->cidr.str(), "192.168.222.0/24");
    EXPECT_EQ(s.security.selinux, Selinux::disabled);
    EXPECT_FALSE(s.security.firewalld);
    EXPECT_FALSE(s.security.network_manager);
    EXPECT_EQ(s.openstack.release, "queens");
    EXPECT_EQ(s.openstack.l2_agent, L2Agent::openvswitch);
    EXPECT_EQ(s.openstack.services.at("swift"), false);
    EXPECT_EQ(s.openstack.services.at("aodh"), false);
    EXPECT_EQ(s.openstack.services.at("demo"), false);
    EXPECT_EQ(s.openstack.cinder_volumes_size, "10G");
    EXPECT_EQ(s.media.vendor_iso, "/srv/lab3/CentOS-7-x86_64-DVD-2009.iso");
    ASSERT_EQ(s.media.repos.size(), 1u);
    EXPECT_EQ(s.media.repos[0].kind, RepoSource::Kind::tarball);
    EXPECT_EQ(s.media.repos[0].location, "/srv/lab3/openstack_Q.tar.gz");
    EXPECT_EQ(s.secrets_path, "/srv/lab3/secrets.yaml");
}

TEST(Rack, IsValidWithoutWarningsAndReadsAsItSays) {
    auto f = airstrap::testutil::rack_file();
    ASSERT_TRUE(f->ok());
    EXPECT_TRUE(f->diag().all().empty()) << f->diag().render();
    const Site& s = f->site();
    ASSERT_EQ(s.nodes.size(), 7u);
    EXPECT_EQ(s.network("management")->vlan, 120);
    EXPECT_EQ(s.network("storage")->cidr6->str(), "fd00:20:0:2::/64");
    EXPECT_EQ(s.network("tenant")->mtu, 9000);
    const Node& ctl = s.nodes[0];
    ASSERT_EQ(ctl.bonds.size(), 1u);
    EXPECT_EQ(ctl.bonds[0].mode, BondMode::lacp);
    EXPECT_EQ(ctl.bonds[0].members[1].mac, "3c:fd:fe:a0:01:11");
    EXPECT_EQ(ctl.macs(), (std::vector<std::string>{"3c:fd:fe:a0:01:10", "3c:fd:fe:a0:01:11"}));
    EXPECT_EQ(s.device_of(*ctl.interface_on("storage")), "bond0.122");
    EXPECT_EQ(ctl.interface_on("storage")->address6->str(), "fd00:20:0:2::10");
    EXPECT_EQ(ctl.disks.layout, SystemLayout::raid1);
    ASSERT_EQ(ctl.disks.data.size(), 1u);
    EXPECT_EQ(ctl.disks.data[0].disk.size_gb, 1920u);
    EXPECT_EQ(ctl.disks.data[0].disk.model, "SAMSUNG MZ7LH1T9*");
    // The compute nodes take their role's layout.
    const Node& cmp4 = s.nodes[6];
    EXPECT_EQ(cmp4.disks.system.size(), 2u);
    ASSERT_NE(cmp4.disks.data_for(DiskUse::nova_instances), nullptr);
    EXPECT_EQ(cmp4.disks.data_for(DiskUse::nova_instances)->disk.device,
              "/dev/disk/by-path/pci-0000:3b:00.0-sas-phy2-lun-0");
    // `disk: X` is still one system disk with autopart.
    auto lab = lab3();
    EXPECT_TRUE(lab->site().nodes[0].disks.is_simple());
}

TEST(Validate, NamesThatReachTheKickstartsShellCannotCarryShell) {
    // A disk model, a bond member and a disk name end up in %pre: quotes, $, ` and ; are refused.
    std::string rack = airstrap::testutil::slurp(airstrap::testutil::rack_path());
    for (auto [from, to] : {std::pair{"model: \"SAMSUNG MZ7LH1T9*\"", "model: \"x'$(reboot)'\""},
                            std::pair{"members: [\"3c:fd:fe:a0:11:10\", \"3c:fd:fe:a0:11:11\"]",
                                      "members: [\"ens1;reboot\", \"3c:fd:fe:a0:11:11\"]"},
                            std::pair{"phy2-lun-0}", "phy2-lun-0`reboot`}"}}) {
        auto f = SiteFile::from_text("site.yaml", replaced(rack, from, to),
                                     airstrap::testutil::rack_path().parent_path());
        EXPECT_FALSE(f->ok()) << to;
    }
}

TEST(Validate, AnActiveBackupBondOfOneIsAWarning) {
    auto f = airstrap::testutil::rack_file(
        replaced(airstrap::testutil::slurp(airstrap::testutil::rack_path()),
                 "members: [\"3c:fd:fe:a0:14:10\", \"3c:fd:fe:a0:14:11\"], mode: 802.3ad,\n"
                 "         lacp_rate: fast, xmit_hash_policy: layer3+4}",
                 "members: [\"3c:fd:fe:a0:14:10\"]}"));
    EXPECT_TRUE(f->ok());
    EXPECT_NE(f->diag().render().find(
                  "warning: bond bond0 of node cmp4 has one member: no link redundancy"),
              std::string::npos)
        << f->diag().render();
}

TEST(Validate, MacsAreNormalisedAndComparedCaseInsensitively) {
    auto f = lab3(replaced(lab3_text(), "\"00:0c:29:5e:12:12\"", "\"00-0C-29-2C-6F-6F\""));
    ASSERT_TRUE(f->diag().has_errors());
    EXPECT_NE(f->diag().render().find("duplicate MAC address 00:0c:29:2c:6f:6f"),
              std::string::npos);
}

TEST(Validate, NodeWithoutMacIsAWarningNotAnError) {
    auto f = lab3(replaced(lab3_text(), "mac: \"00:0c:29:5e:12:12\", ", ""));
    EXPECT_TRUE(f->ok()) << f->diag().render();
    EXPECT_NE(f->diag().render().find("warning: node compute-node has no MAC address"),
              std::string::npos);
}

TEST(Validate, ReleaseNotBuiltForTheDistroIsAWarning) {
    auto f = lab3(replaced(lab3_text(), "release: queens", "release: \"2024.1\""));
    EXPECT_TRUE(f->ok()) << f->diag().render();
    EXPECT_NE(f->diag().render().find("warning: RDO did not build 2024.1 for el7"),
              std::string::npos);
}

TEST(Validate, FirewalldWithPackstackIsAWarning) {
    auto f = lab3(replaced(lab3_text(), "firewalld: false", "firewalld: true"));
    EXPECT_TRUE(f->ok());
    EXPECT_NE(f->diag().render().find("conflicts with firewalld"), std::string::npos);
}

TEST(Validate, KnownAnswerKeysAndServicesAreAccepted) {
    auto f = lab3(replaced(lab3_text(), "cinder_volumes_size: 10G\n",
                           "cinder_volumes_size: 10G\n  answers:\n    CONFIG_HEAT_INSTALL_X: y\n"));
    EXPECT_FALSE(f->ok());
    auto g = lab3(replaced(lab3_text(), "cinder_volumes_size: 10G\n",
                           "cinder_volumes_size: 10G\n  answers:\n"
                           "    CONFIG_NOVA_COMPUTE_MIGRATE_PROTOCOL: ssh\n"));
    EXPECT_TRUE(g->ok()) << g->diag().render();
    auto h = lab3(replaced(lab3_text(), "demo: false", "demo: false\n    heat: true"));
    EXPECT_TRUE(h->ok()) << h->diag().render();
    EXPECT_TRUE(h->site().openstack.services.at("heat"));
}

TEST(Validate, ControllerOnlyNetworkingWarnsWithoutExternalBridge) {
    std::string text = lab3_text();
    auto from = text.find("  - name: network-node");
    auto to = text.find("  - name: compute-node");
    text.erase(from, to - from);
    auto f = lab3(text);
    EXPECT_TRUE(f->ok()) << f->diag().render();
    EXPECT_NE(f->diag().render().find("no network node: Neutron's agents run on the controller"),
              std::string::npos);
}

TEST(SiteJson, CarriesNoSecretsAndIsStable) {
    auto f = lab3();
    auto a = nlohmann::json::parse(airstrap::node::site_json_text(
                                       node_site(f->site(), airstrap::crypto::Bytes(32, 0x42))))
                 .dump();
    auto b = nlohmann::json::parse(airstrap::node::site_json_text(node_site(
                                       lab3()->site(), airstrap::crypto::Bytes(32, 0x42))))
                 .dump();
    EXPECT_EQ(a, b);
    EXPECT_EQ(a.find("password"), std::string::npos);
    EXPECT_EQ(a.find("secret"), std::string::npos);
    EXPECT_NE(a.find("\"bridge\":\"br-ex\""), std::string::npos);
}

}  // namespace

namespace {

TEST(Syntax, TimeZones) {
    using airstrap::site::is_timezone_name;
    EXPECT_TRUE(is_timezone_name("UTC"));
    EXPECT_TRUE(is_timezone_name("Asia/Shanghai"));
    EXPECT_TRUE(is_timezone_name("America/Argentina/Buenos_Aires"));
    EXPECT_TRUE(is_timezone_name("Etc/GMT+8"));
    EXPECT_FALSE(is_timezone_name(""));
    EXPECT_FALSE(is_timezone_name("Asia//Shanghai"));
    EXPECT_FALSE(is_timezone_name("../etc/passwd"));
    EXPECT_FALSE(is_timezone_name("Asia/Shang hai"));
    EXPECT_FALSE(is_timezone_name(std::string(65, 'a')));
}

TEST(Syntax, Locales) {
    using airstrap::site::is_locale_name;
    for (const char* ok :
         {"en_US.UTF-8", "zh_CN.UTF-8", "zh_CN.utf8", "de_DE@euro", "en", "ast_ES"})
        EXPECT_TRUE(is_locale_name(ok)) << ok;
    for (const char* bad :
         {"", "e", "en_us", "en_US.ISO-8859-1", "en_US.", "en_US@", "EN_US", "en_US.UTF-8x"})
        EXPECT_FALSE(is_locale_name(bad)) << bad;
}

TEST(Syntax, KeyboardLayouts) {
    using airstrap::site::is_keyboard_layout;
    for (const char* ok : {"us", "de-nodeadkeys", "cz(qwerty)", "fr_oss"})
        EXPECT_TRUE(is_keyboard_layout(ok)) << ok;
    for (const char* bad : {"", "US", "cz(", "cz()", "cz(qwerty", "us;rm", "us(x)y"})
        EXPECT_FALSE(is_keyboard_layout(bad)) << bad;
}

// Long inputs once overflowed the stack inside std::regex (found by tests/fuzz).
TEST(Syntax, HugeValuesAreRejectedWithoutCrashing) {
    std::string tz;
    for (int i = 0; i < 200000; ++i) tz += "ab/";
    EXPECT_FALSE(airstrap::site::is_timezone_name(tz));
    EXPECT_FALSE(airstrap::site::is_locale_name(std::string(600000, 'a')));
    EXPECT_FALSE(airstrap::site::is_keyboard_layout(std::string(600000, 'a')));
    std::string site =
        "site: {name: a, domain: b.c, distro: el7, timezone: " + tz.substr(0, 600000) +
        ", language: " + std::string(300000, 'a') + "}\n";
    auto f = SiteFile::from_text("site.yaml", site, "/srv");
    EXPECT_TRUE(f->diag().has_errors());
}

}  // namespace

TEST(Parse, Qcow2SectionHasDefaultsAndChecksItsSize) {
    auto d = lab3();
    EXPECT_EQ(d->site().qcow2.size_gib, 20);
    EXPECT_EQ(d->site().qcow2.profile, "");
    EXPECT_FALSE(d->site().qcow2.compress);
    auto f = lab3(
        replaced(lab3_text(), "openstack:\n  deployer",
                 "qcow2: {size: 40G, profile: el7, compress: true}\n\nopenstack:\n  deployer"));
    EXPECT_TRUE(f->ok()) << f->diag().render();
    EXPECT_EQ(f->site().qcow2.size_gib, 40);
    EXPECT_EQ(f->site().qcow2.profile, "el7");
    EXPECT_TRUE(f->site().qcow2.compress);
    auto bad = lab3(replaced(lab3_text(), "openstack:\n  deployer",
                             "qcow2:\n  size: 2T\n\nopenstack:\n  deployer"));
    ASSERT_FALSE(bad->ok());
    EXPECT_NE(bad->diag().render().find(
                  "site.yaml:66:9: error: qcow2 size '2T' must be whole gigabytes from "
                  "4G to 65536G, such as 20G"),
              std::string::npos)
        << bad->diag().render();
}
