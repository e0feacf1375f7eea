#include "node/deploy_config.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"

using namespace airstrap;

TEST(DeployConfig, RoundTrips) {
    node::DeployConfig c;
    c.answers = {{"CONFIG_KEYSTONE_ADMIN_PW", "pw", "secrets.yaml", true},
                 {"EXCLUDE_SERVERS", "", "every node", false}};
    c.user_passwords = {{"uat", "uat-pw"}};
    node::DeployConfig back = node::parse_deploy_config(node::deploy_config_text(c));
    ASSERT_EQ(back.answers.size(), 2u);
    EXPECT_EQ(back.answers[0].key, "CONFIG_KEYSTONE_ADMIN_PW");
    EXPECT_EQ(back.answers[0].value, "pw");
    EXPECT_TRUE(back.answers[0].secret);
    EXPECT_EQ(back.answers[1].from, "every node");
    EXPECT_EQ(back.user_passwords, c.user_passwords);
}

TEST(DeployConfig, StrictAboutShape) {
    for (const char* bad : {
             "",
             "[]",
             "{\"answers\": []}",
             "{\"answers\": [{\"key\": \"A\", \"value\": 1, \"from\": \"x\", \"secret\": false}], "
             "\"user_passwords\": {}}",
             "{\"answers\": [{\"key\": \"A\", \"value\": \"1\", \"from\": \"x\"}], "
             "\"user_passwords\": {}}",
             "{\"answers\": [], \"user_passwords\": {\"uat\": \"\"}}",
             "{\"answers\": [], \"user_passwords\": {}, \"extra\": 1}",
         }) {
        EXPECT_THROW(node::parse_deploy_config(bad), InputError) << bad;
    }
}

TEST(DeployConfig, SealedUnderTheSiteSecret) {
    node::DeployConfig c;
    c.answers = {{"CONFIG_KEYSTONE_ADMIN_PW", "plain-admin-pw", "secrets.yaml", true}};
    c.user_passwords = {{"uat", "plain-uat-pw"}};
    crypto::Bytes secret(32, 0x42), other(32, 0x43);
    std::string sealed = node::seal_deploy_config(c, secret);
    EXPECT_EQ(sealed.find("plain-"), std::string::npos);
    EXPECT_EQ(sealed.back(), '\n');
    // Same config and secret, same bytes (kickstarts are reproducible).
    EXPECT_EQ(sealed, node::seal_deploy_config(c, secret));
    EXPECT_NE(sealed, node::seal_deploy_config(c, other));
    node::DeployConfig back = node::open_deploy_config(sealed, secret);
    EXPECT_EQ(back.answers.at(0).value, "plain-admin-pw");
    EXPECT_EQ(back.user_passwords.at("uat"), "plain-uat-pw");
    EXPECT_THROW(node::open_deploy_config(sealed, other), InputError);
    std::string altered = sealed;
    altered[40] = altered[40] == '0' ? '1' : '0';
    EXPECT_THROW(node::open_deploy_config(altered, secret), InputError);
    EXPECT_THROW(node::open_deploy_config("not hex\n", secret), InputError);
}
