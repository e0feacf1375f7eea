#include "site/secrets_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <type_traits>

#include "tests/unit/test_support.hpp"

namespace airstrap::site {
namespace {

namespace fs = std::filesystem;

static_assert(!std::is_copy_constructible_v<SecretsFile>);
static_assert(!std::is_copy_assignable_v<SecretsFile>);

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
    if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "'" << part << "' not in:\n" << text;
}

// Passwords that are not weak, so that diag() holds only what a test is about.
std::string secrets_text(const std::string& users_block) {
    return "site_secret: " + std::string(64, 'a') +
           "\n"
           "passwords:\n"
           "  root: Zq8Wn3Kp5Rt7Yx2Mv4Bc\n"
           "  default: Xk9mPq2RtLw7Vn4Zs8Hy\n"
           "  keystone_admin: Ab3dEf6hJk9mNp2qRs5t\n" +
           users_block;
}

class SecretsFileTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string pattern =
            (fs::path(::testing::TempDir()) / "airstrap-secrets-file-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
        dir_ = pattern;
        site_ = testutil::lab3_file();  // cloud.users: uat
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    fs::path write(const std::string& text, mode_t mode = 0600) {
        fs::path p = dir_ / "secrets.yaml";
        testutil::put(p, text);
        EXPECT_EQ(::chmod(p.c_str(), mode), 0);
        return p;
    }
    const Site& site() const { return site_->site(); }

    fs::path dir_;
    std::unique_ptr<SiteFile> site_;
};

TEST_F(SecretsFileTest, GoodFileForTheSiteIsOk) {
    fs::path p = write(secrets_text("  users:\n    uat: Ur7Kp2Wm9Xq4Tz6Nb3Hs\n"));
    auto f = SecretsFile::load(p, site());
    ASSERT_TRUE(f->ok()) << f->diag().render();
    EXPECT_FALSE(f->missing());
    EXPECT_EQ(f->path(), p);
    EXPECT_TRUE(f->diag().all().empty()) << f->diag().render();
    EXPECT_EQ(f->secrets().root_password, "Zq8Wn3Kp5Rt7Yx2Mv4Bc");
    EXPECT_EQ(f->secrets().user_passwords.at("uat"), "Ur7Kp2Wm9Xq4Tz6Nb3Hs");
}

// The bug this class exists for: a command that loaded the secrets without the site's
// checks let a cloud user without a password through to day-1.
TEST_F(SecretsFileTest, CloudUserWithoutPasswordIsAnErrorNamingTheUser) {
    fs::path p = write(secrets_text(""));
    auto f = SecretsFile::load(p, site());
    EXPECT_FALSE(f->ok());
    EXPECT_FALSE(f->missing());
    ASSERT_EQ(f->diag().error_count(), 1u);
    EXPECT_TRUE(
        Contains(f->diag().render(),
                 p.string() + ": error: no password for cloud user 'uat' (site.yaml line "));
    EXPECT_TRUE(Contains(f->diag().render(), "add passwords.users.uat to this file"));
}

TEST_F(SecretsFileTest, MissingFileIsAnErrorAndSaysSo) {
    auto f = SecretsFile::load(dir_ / "secrets.yaml", site());
    EXPECT_FALSE(f->ok());
    EXPECT_TRUE(f->missing());
    EXPECT_EQ(f->diag().render(), (dir_ / "secrets.yaml").string() +
                                      ": error: no secrets file; 'airstrap init --secrets-only " +
                                      dir_.string() + "' makes one\n");
}

TEST_F(SecretsFileTest, FileOthersMayReadIsRefusedButNotMissing) {
    fs::path p = write(secrets_text("  users:\n    uat: Ur7Kp2Wm9Xq4Tz6Nb3Hs\n"), 0640);
    auto f = SecretsFile::load(p, site());
    EXPECT_FALSE(f->ok());
    EXPECT_FALSE(f->missing());
    EXPECT_TRUE(Contains(f->diag().render(), "mode 0640 lets other users read the secrets"));
}

TEST_F(SecretsFileTest, ParseErrorsNeverQuoteTheFile) {
    fs::path p = write(secrets_text("  users:\n    uat: \"a b c\"\n"));
    auto f = SecretsFile::load(p, site());
    EXPECT_FALSE(f->ok());
    std::string out = f->diag().render();
    EXPECT_TRUE(Contains(out, "passwords.users.uat must be printable ASCII without spaces"));
    EXPECT_EQ(out.find("a b c"), std::string::npos) << out;
    EXPECT_EQ(out.find("Zq8Wn3Kp5Rt7Yx2Mv4Bc"), std::string::npos) << out;
}

}  // namespace
}  // namespace airstrap::site
