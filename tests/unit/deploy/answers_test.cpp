// The answer file airstrap writes for lab3: the seed's ten hand edits by key, the bridge keys
// of the chosen L2 agent, nothing from the internet; golden files for OVS (queens) and OVN
// (train). Regenerate with AIRSTRAP_UPDATE_EXPECTED=1.
#include "deploy/answers.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.hpp"
#include "site/site_file.hpp"
#include "tests/unit/test_support.hpp"

namespace fs = std::filesystem;
using namespace airstrap;

namespace {

std::string lab3_text(bool ovn) {
    std::string text = testutil::lab3_text();
    if (ovn) {
        text = testutil::replaced(text, "release: queens", "release: train ");
        text = testutil::replaced(text, "l2_agent: openvswitch", "l2_agent: ovn");
    }
    return text;
}

std::unique_ptr<site::SiteFile> load(bool ovn) {
    auto f = site::SiteFile::from_text("site.yaml", lab3_text(ovn), "/srv/lab3");
    EXPECT_TRUE(f->ok()) << f->diag().render();
    return f;
}

std::map<std::string, std::string> as_map(const std::vector<deploy::AnswerSetting>& s) {
    std::map<std::string, std::string> m;
    for (const auto& a : s) m[a.key] = a.value;
    return m;
}

}  // namespace

TEST(Answers, TheSeedsEditsByKey) {
    auto f = load(false);
    auto m = as_map(deploy::packstack_settings(f->site(), testutil::fixed_secrets()));
    // The seed's ten edits (passwords from secrets.yaml, not 123456).
    EXPECT_EQ(m.at("CONFIG_DEFAULT_PASSWORD"), "golden-default-password");
    EXPECT_EQ(m.at("CONFIG_SWIFT_INSTALL"), "n");
    EXPECT_EQ(m.at("CONFIG_AODH_INSTALL"), "n");
    EXPECT_EQ(m.at("CONFIG_CONTROLLER_HOST"), "192.168.111.10");
    EXPECT_EQ(m.at("CONFIG_COMPUTE_HOSTS"), "192.168.111.12");
    EXPECT_EQ(m.at("CONFIG_NETWORK_HOSTS"), "192.168.111.11");
    EXPECT_EQ(m.at("CONFIG_KEYSTONE_ADMIN_PW"), "golden-keystone-password");
    EXPECT_EQ(m.at("CONFIG_CINDER_VOLUMES_SIZE"), "10G");
    EXPECT_EQ(m.at("CONFIG_NEUTRON_OVS_BRIDGE_IFACES"), "br-ex:ens34");
    EXPECT_EQ(m.at("CONFIG_PROVISION_DEMO"), "n");
    // What the seed got by luck or by hand.
    EXPECT_EQ(m.at("CONFIG_NEUTRON_L2_AGENT"), "openvswitch");
    EXPECT_EQ(m.at("CONFIG_NEUTRON_OVS_BRIDGE_MAPPINGS"), "extnet:br-ex");
    EXPECT_EQ(m.at("CONFIG_NTP_SERVERS"), "");
    EXPECT_EQ(m.at("CONFIG_PROVISION_TEMPEST"), "n");
    EXPECT_EQ(m.at("CONFIG_SSH_KEY"), "/root/.ssh/id_ed25519.pub");
    EXPECT_EQ(m.at("CONFIG_NOVA_LIBVIRT_VIRT_TYPE"), "kvm");
    EXPECT_EQ(m.at("EXCLUDE_SERVERS"), "");
    EXPECT_EQ(m.count("CONFIG_NEUTRON_OVN_BRIDGE_MAPPINGS"), 0u);
}

TEST(Answers, TheRacksBridgeIsOnAVlanAndCinderHasItsDisk) {
    auto f = testutil::rack_file();
    auto m = as_map(deploy::packstack_settings(f->site(), testutil::fixed_secrets()));
    EXPECT_EQ(m.at("CONFIG_NEUTRON_OVN_BRIDGE_IFACES"), "br-ex:bond0.130");
    EXPECT_EQ(m.at("CONFIG_CINDER_VOLUMES_CREATE"), "n");
    EXPECT_EQ(m.count("CONFIG_CINDER_VOLUMES_SIZE"), 0u);  // no loop file to size
    EXPECT_EQ(m.at("CONFIG_NETWORK_HOSTS"), "10.20.0.11,10.20.0.12");
}

TEST(Answers, OvnWritesTheKeysPackstackReadsForOvn) {
    auto f = load(true);
    auto m = as_map(deploy::packstack_settings(f->site(), testutil::fixed_secrets()));
    EXPECT_EQ(m.at("CONFIG_NEUTRON_L2_AGENT"), "ovn");
    EXPECT_EQ(m.at("CONFIG_NEUTRON_OVN_BRIDGE_MAPPINGS"), "extnet:br-ex");
    EXPECT_EQ(m.at("CONFIG_NEUTRON_OVN_BRIDGE_IFACES"), "br-ex:ens34");
    // packstack copies the OVN values over these: writing them would mislead a reader.
    EXPECT_EQ(m.count("CONFIG_NEUTRON_OVS_BRIDGE_MAPPINGS"), 0u);
    EXPECT_EQ(m.count("CONFIG_NEUTRON_OVS_BRIDGE_IFACES"), 0u);
}

TEST(Answers, EveryKeyWrittenIsAParameterOfTheRelease) {
    for (bool ovn : {false, true}) {
        auto f = load(ovn);
        const auto* release = site::packstack_release(f->site().openstack.release);
        ASSERT_NE(release, nullptr);
        for (const auto& s : deploy::packstack_settings(f->site(), testutil::fixed_secrets())) {
            EXPECT_NE(release->find(s.key), nullptr) << s.key << " in " << release->name();
            EXPECT_FALSE(s.from.empty()) << s.key;
        }
    }
}

TEST(Answers, SiteOverridesComeLastAndWin) {
    const std::string line = "  cinder_volumes_size: 10G";
    std::string text = testutil::replaced(
        lab3_text(false), line, line + "\n  answers:\n    CONFIG_NOVA_LIBVIRT_VIRT_TYPE: qemu");
    auto f = site::SiteFile::from_text("site.yaml", text, "/srv/lab3");
    ASSERT_TRUE(f->ok()) << f->diag().render();
    auto settings = deploy::packstack_settings(f->site(), testutil::fixed_secrets());
    // A site without VT-x in its compute VMs says so; the key is written once, with its value.
    int count = 0;
    for (const auto& s : settings) {
        if (s.key != "CONFIG_NOVA_LIBVIRT_VIRT_TYPE") continue;
        ++count;
        EXPECT_EQ(s.value, "qemu");
        EXPECT_EQ(s.from, "site.yaml openstack.answers.CONFIG_NOVA_LIBVIRT_VIRT_TYPE");
    }
    EXPECT_EQ(count, 1);
}

TEST(Answers, PasswordsAreMaskedForReview) {
    auto f = load(false);
    std::string text = deploy::render_answer_file(
        deploy::baseline_answer_file(*site::packstack_release("queens")), "queens defaults",
        deploy::packstack_settings(f->site(), testutil::fixed_secrets()), true);
    EXPECT_EQ(text.find("golden-"), std::string::npos);
    EXPECT_NE(text.find("\nCONFIG_KEYSTONE_ADMIN_PW=<secret: secrets.yaml "
                        "passwords.keystone_admin>\n"),
              std::string::npos);
}

class AnswersGolden : public ::testing::TestWithParam<bool> {};

TEST_P(AnswersGolden, MatchesTheCommittedFile) {
    bool ovn = GetParam();
    auto f = load(ovn);
    const auto* release = site::packstack_release(f->site().openstack.release);
    std::string text = deploy::render_answer_file(
        deploy::baseline_answer_file(*release), "defaults",
        deploy::packstack_settings(f->site(), testutil::fixed_secrets()), true);
    fs::path golden = fs::path(AIRSTRAP_TEST_DATA) / "golden" / "answers" /
                      (ovn ? "lab3-train-ovn.txt" : "lab3-queens-ovs.txt");
    if (std::getenv("AIRSTRAP_UPDATE_EXPECTED")) {
        fs::create_directories(golden.parent_path());
        std::ofstream(golden, std::ios::binary) << text;
    }
    ASSERT_TRUE(fs::exists(golden)) << golden;
    EXPECT_EQ(text, testutil::slurp(golden)) << "regenerate with AIRSTRAP_UPDATE_EXPECTED=1";
    // Every parameter of the release is in the file, once.
    for (const auto& p : release->params()) {
        EXPECT_NE(text.find("\n" + p.name + "="), std::string::npos) << p.name;
    }
}

INSTANTIATE_TEST_SUITE_P(Lab3, AnswersGolden, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "train_ovn" : "queens_ovs"; });

TEST(Answers, TheDemoTakesItsImageFromTheSiteRepository) {
    std::string text = testutil::replaced(lab3_text(false), "demo: false", "demo: true ");
    auto f = site::SiteFile::from_text("site.yaml", text, "/srv/lab3");
    ASSERT_TRUE(f->ok()) << f->diag().render();
    auto m = as_map(deploy::packstack_settings(f->site(), testutil::fixed_secrets()));
    EXPECT_EQ(m.at("CONFIG_PROVISION_DEMO"), "y");
    EXPECT_EQ(m.at("CONFIG_PROVISION_IMAGE_URL"),
              "file:///opt/airstrap/repo/images/cirros-0.3.4-x86_64-disk.img");
    EXPECT_EQ(m.at("CONFIG_PROVISION_IMAGE_NAME"), "cirros-0.3.4-x86_64");
    EXPECT_EQ(m.at("CONFIG_PROVISION_IMAGE_FORMAT"), "qcow2");
}
