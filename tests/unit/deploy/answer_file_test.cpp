// The answer file is edited by key: every other byte of packstack's file stays.
#include "deploy/answer_file.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"
#include "tests/unit/test_support.hpp"

using namespace airstrap;
using deploy::AnswerFile;
using testutil::message_of;

namespace {

const char* generated =
    "[general]\n"
    "\n"
    "# Path to a public key to install on servers.\n"
    "CONFIG_SSH_KEY=/root/.ssh/id_rsa.pub\n"
    "\n"
    "# Default password to be used everywhere (overridden by passwords set\n"
    "# for individual services or users).\n"
    "CONFIG_DEFAULT_PASSWORD=\n"
    "\n"
    "CONFIG_SWIFT_INSTALL=y\n"
    "CONFIG_NEUTRON_OVS_BRIDGE_MAPPINGS=extnet:br-ex\n";

}  // namespace

TEST(AnswerFile, RendersTheParsedFileByteForByte) {
    AnswerFile f = AnswerFile::parse(generated, "gen.txt");
    EXPECT_EQ(f.render(), generated);
    EXPECT_EQ(f.keys(), (std::vector<std::string>{"CONFIG_SSH_KEY", "CONFIG_DEFAULT_PASSWORD",
                                                  "CONFIG_SWIFT_INSTALL",
                                                  "CONFIG_NEUTRON_OVS_BRIDGE_MAPPINGS"}));
    EXPECT_EQ(f.get("CONFIG_NEUTRON_OVS_BRIDGE_MAPPINGS"), "extnet:br-ex");
    EXPECT_EQ(f.get("CONFIG_DEFAULT_PASSWORD"), "");
}

TEST(AnswerFile, SetChangesOnlyThatLine) {
    AnswerFile f = AnswerFile::parse(generated, "gen.txt");
    EXPECT_TRUE(f.set("CONFIG_SWIFT_INSTALL", "n"));
    EXPECT_FALSE(f.set("CONFIG_SWIFT_INSTALL", "n"));
    std::string expected = generated;
    expected.replace(expected.find("CONFIG_SWIFT_INSTALL=y"), 22, "CONFIG_SWIFT_INSTALL=n");
    EXPECT_EQ(f.render(), expected);
    EXPECT_THROW(f.set("CONFIG_SWIFT_INSTAL", "n"), Error);
}

TEST(AnswerFile, CarriageReturnsAndAMissingFinalNewlineAreAccepted) {
    AnswerFile f = AnswerFile::parse("[general]\r\nA_B=1\r\nC=2", "x");
    EXPECT_EQ(f.get("A_B"), "1");
    EXPECT_EQ(f.get("C"), "2");
    EXPECT_EQ(f.render(), "[general]\nA_B=1\nC=2\n");
}

TEST(AnswerFile, BadLinesNameTheFileAndLine) {
    EXPECT_EQ(
        message_of([] { AnswerFile::parse("[general]\nCONFIG_X=1\nnot a setting\n", "a.txt"); }),
        "a.txt:3: expected KEY=VALUE, a comment or [general], found 'not a setting'");
    EXPECT_EQ(message_of([] { AnswerFile::parse("CONFIG_X=1\n\nCONFIG_X=2\n", "a.txt"); }),
              "a.txt:3: CONFIG_X is already set on line 1");
    EXPECT_EQ(message_of([] { AnswerFile::parse("config_x=1\n", "a.txt"); }),
              "a.txt:1: expected KEY=VALUE, a comment or [general], found 'config_x=1'");
}

TEST(AnswerFile, ApplyRefusesKeysThisReleaseDoesNotHave) {
    AnswerFile f = AnswerFile::parse(generated, "gen.txt");
    std::vector<deploy::AnswerSetting> settings = {
        {"CONFIG_SWIFT_INSTALL", "n", "site.yaml openstack.services.swift", false},
        {"CONFIG_NEUTRON_OVN_BRIDGE_MAPPINGS", "extnet:br-ex", "the bridge", false},
    };
    EXPECT_EQ(message_of([&] { deploy::apply_settings(f, settings); }),
              "this packstack's answer file has no CONFIG_NEUTRON_OVN_BRIDGE_MAPPINGS (from the "
              "bridge): is openstack.release in site.yaml the release the site repository "
              "carries?");
    // Nothing was applied.
    EXPECT_EQ(f.get("CONFIG_SWIFT_INSTALL"), "y");
    settings.pop_back();
    EXPECT_EQ(deploy::apply_settings(f, settings),
              std::vector<std::string>{"CONFIG_SWIFT_INSTALL"});
    EXPECT_EQ(deploy::apply_settings(f, settings), std::vector<std::string>{});
}
