#include "site/packstack_params.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <string>
#include <vector>

namespace airstrap::site {
namespace {

bool has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(PackstackReleases, NamesInUpstreamOrder) {
    auto names = packstack_release_names();
    ASSERT_EQ(names.size(), 16u);
    EXPECT_EQ(names.front(), "queens");
    EXPECT_EQ(names.back(), "master");
    EXPECT_EQ(names,
              (std::vector<std::string>{"queens", "rocky", "stein", "train", "ussuri", "victoria",
                                        "wallaby", "xena", "yoga", "zed", "2023.1", "2023.2",
                                        "2024.1", "2024.2", "2025.1", "master"}));
}

TEST(PackstackReleases, EveryListedReleaseLoadsWithParameters) {
    for (const auto& name : packstack_release_names()) {
        const PackstackRelease* rel = packstack_release(name);
        ASSERT_NE(rel, nullptr) << name;
        EXPECT_EQ(rel->name(), name);
        EXPECT_GT(rel->params().size(), 250u) << name;
        EXPECT_EQ(rel->names().size(), rel->params().size()) << name;
    }
}

TEST(PackstackReleases, UnknownReleaseIsNull) {
    EXPECT_EQ(packstack_release("bogus"), nullptr);
    EXPECT_EQ(packstack_release(""), nullptr);
    EXPECT_EQ(packstack_release("Queens"), nullptr);
}

TEST(PackstackReleases, SamePointerEveryTime) {
    EXPECT_EQ(packstack_release("queens"), packstack_release("queens"));
    EXPECT_NE(packstack_release("queens"), packstack_release("rocky"));
}

TEST(PackstackParams, HeaderAndCommentLinesAreNotParameters) {
    const PackstackRelease* queens = packstack_release("queens");
    ASSERT_NE(queens, nullptr);
    EXPECT_EQ(queens->find("conf_name"), nullptr);
    for (const auto& p : queens->params()) {
        EXPECT_FALSE(p.name.empty());
        EXPECT_EQ(p.name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"),
                  std::string::npos)
            << p.name;
    }
    // Packstack's one key without the CONFIG_ prefix is kept.
    EXPECT_NE(queens->find("EXCLUDE_SERVERS"), nullptr);
}

// Every release holds exactly the parameter rows of its TSV, in file order.
TEST(PackstackParams, MatchTheTsvRows) {
    for (const auto& name : packstack_release_names()) {
        const PackstackRelease* rel = packstack_release(name);
        ASSERT_NE(rel, nullptr) << name;
        std::ifstream in(std::string(AIRSTRAP_SOURCE_DIR) + "/site/packstack/" + name + ".tsv");
        ASSERT_TRUE(in.is_open()) << name;
        std::vector<std::string> expected;
        std::string line;
        while (std::getline(in, line)) {
            if (line.empty() || line[0] == '#' || line.starts_with("conf_name\t")) continue;
            expected.push_back(line.substr(0, line.find('\t')));
        }
        EXPECT_EQ(rel->names(), expected) << name;
    }
}

TEST(PackstackParams, QueensSwiftInstallIsAYesNoOption) {
    const PackstackRelease* queens = packstack_release("queens");
    ASSERT_NE(queens, nullptr);
    const PackstackParam* p = queens->find("CONFIG_SWIFT_INSTALL");
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->name, "CONFIG_SWIFT_INSTALL");
    EXPECT_EQ(p->options, (std::vector<std::string>{"y", "n"}));
    EXPECT_EQ(p->default_value, "y");
    EXPECT_EQ(p->plugin, "prescript_000.py");
}

TEST(PackstackParams, NeutronL2AgentDefaultChangedToOvnInStein) {
    struct Case {
        const char* release;
        const char* default_value;
    };
    for (const Case& c : {Case{"queens", "openvswitch"}, Case{"rocky", "openvswitch"},
                          Case{"stein", "ovn"}, Case{"2024.1", "ovn"}}) {
        const PackstackRelease* rel = packstack_release(c.release);
        ASSERT_NE(rel, nullptr) << c.release;
        const PackstackParam* p = rel->find("CONFIG_NEUTRON_L2_AGENT");
        ASSERT_NE(p, nullptr) << c.release;
        EXPECT_EQ(p->default_value, c.default_value) << c.release;
    }
}

TEST(PackstackParams, NeutronL2AgentOptionsPerRelease) {
    const PackstackParam* queens = packstack_release("queens")->find("CONFIG_NEUTRON_L2_AGENT");
    ASSERT_NE(queens, nullptr);
    EXPECT_EQ(queens->options, (std::vector<std::string>{"linuxbridge", "openvswitch", "ovn"}));
    const PackstackParam* r2025 = packstack_release("2025.1")->find("CONFIG_NEUTRON_L2_AGENT");
    ASSERT_NE(r2025, nullptr);
    EXPECT_EQ(r2025->options, (std::vector<std::string>{"openvswitch", "ovn"}));
}

TEST(PackstackParams, ParametersWithoutOptionValidationHaveNoOptions) {
    // CONFIG_AMQP_HOST is validated by validate_ssh, not validate_options.
    const PackstackParam* p = packstack_release("queens")->find("CONFIG_AMQP_HOST");
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(p->options.empty());
    EXPECT_EQ(p->default_value, "utils.get_localhost_ip()");
}

TEST(PackstackParams, CinderVolumesSizeInEveryRelease) {
    for (const auto& name : packstack_release_names()) {
        const PackstackRelease* rel = packstack_release(name);
        ASSERT_NE(rel, nullptr) << name;
        EXPECT_NE(rel->find("CONFIG_CINDER_VOLUMES_SIZE"), nullptr) << name;
    }
}

TEST(PackstackParams, UnknownKeyNotFound) {
    const PackstackRelease* queens = packstack_release("queens");
    ASSERT_NE(queens, nullptr);
    EXPECT_EQ(queens->find("CONFIG_NOPE"), nullptr);
    EXPECT_EQ(queens->find("config_swift_install"), nullptr);
    EXPECT_EQ(queens->find(""), nullptr);
}

TEST(PackstackServices, ServiceKey) {
    const PackstackRelease* queens = packstack_release("queens");
    ASSERT_NE(queens, nullptr);
    EXPECT_EQ(queens->service_key("swift"), "CONFIG_SWIFT_INSTALL");
    EXPECT_EQ(queens->service_key("demo"), "CONFIG_PROVISION_DEMO");
    EXPECT_EQ(queens->service_key("tempest"), "CONFIG_PROVISION_TEMPEST");
    EXPECT_EQ(queens->service_key("heat-cfn"), "CONFIG_HEAT_CFN_INSTALL");
    EXPECT_EQ(queens->service_key("nope"), "");
    EXPECT_EQ(queens->service_key(""), "");
}

TEST(PackstackServices, ServiceKeyInLatestRelease) {
    const PackstackRelease* rel = packstack_release("2025.1");
    ASSERT_NE(rel, nullptr);
    EXPECT_EQ(rel->service_key("swift"), "CONFIG_SWIFT_INSTALL");
    EXPECT_EQ(rel->service_key("demo"), "CONFIG_PROVISION_DEMO");
    EXPECT_EQ(rel->service_key("nope"), "");
}

TEST(PackstackServices, LbaasInQueensButNotIn2025) {
    const PackstackRelease* queens = packstack_release("queens");
    const PackstackRelease* r2025 = packstack_release("2025.1");
    ASSERT_NE(queens, nullptr);
    ASSERT_NE(r2025, nullptr);
    EXPECT_EQ(queens->service_key("lbaas"), "CONFIG_LBAAS_INSTALL");
    EXPECT_TRUE(has(queens->service_names(), "lbaas"));
    EXPECT_EQ(r2025->service_key("lbaas"), "");
    EXPECT_FALSE(has(r2025->service_names(), "lbaas"));
}

TEST(PackstackServices, ServiceNamesAreLowerCaseAndResolve) {
    const PackstackRelease* queens = packstack_release("queens");
    ASSERT_NE(queens, nullptr);
    auto names = queens->service_names();
    EXPECT_TRUE(has(names, "swift"));
    EXPECT_TRUE(has(names, "demo"));
    EXPECT_TRUE(has(names, "nova"));
    EXPECT_TRUE(has(names, "heat_cfn"));
    // Provisioning settings are not services.
    EXPECT_FALSE(has(names, "demo_floatrange"));
    EXPECT_FALSE(has(names, "image_name"));
    for (const auto& n : names) {
        EXPECT_EQ(n, [&] {
            std::string lower = n;
            for (char& c : lower)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            return lower;
        }()) << n;
        EXPECT_FALSE(queens->service_key(n).empty()) << n;
    }
}

// Regression: service_key() once returned any CONFIG_PROVISION_<X> key, so settings such
// as CONFIG_PROVISION_DEMO_FLOATRANGE passed as a service in openstack.services.
TEST(PackstackServices, ServiceKeyOnlyForServiceToggles) {
    const PackstackRelease* queens = packstack_release("queens");
    ASSERT_NE(queens, nullptr);
    EXPECT_EQ(queens->service_key("demo_floatrange"), "");
    EXPECT_EQ(queens->service_key("image_name"), "");
    EXPECT_EQ(queens->service_key("tempest_user_pw"), "");
    // Whatever service_key() resolves must be a listed service name.
    auto names = queens->service_names();
    for (const auto& p : queens->params()) {
        if (!p.name.starts_with("CONFIG_PROVISION_")) continue;
        std::string service = p.name.substr(17);
        for (char& c : service) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (!queens->service_key(service).empty()) {
            EXPECT_TRUE(has(names, service)) << service << " -> " << queens->service_key(service);
        }
    }
}

}  // namespace
}  // namespace airstrap::site
