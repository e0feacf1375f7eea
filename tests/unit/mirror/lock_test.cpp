// The one strict reader of a site repository's airstrap.lock (open_site_repo): the checks
// `build iso`, `build pxe` and `build qcow2` rely on, with the messages they print.
#include "repo-mirror/lock.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/error.hpp"
#include "tests/unit/test_support.hpp"

namespace fs = std::filesystem;
using namespace airstrap;
using airstrap::testutil::message_of;
using airstrap::testutil::put;

namespace {

class SiteRepoTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "airstrap-lock-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        repo = pattern;
        site.name = "lab3";
        site.distro = site::Distro::el7;
    }
    void TearDown() override { fs::remove_all(repo); }

    void make(const std::string& lock) {
        put(repo / "repodata/repomd.xml", "<repomd/>\n");
        put(repo / "airstrap.lock", lock);
    }

    fs::path repo;
    site::Site site;
};

}  // namespace

TEST_F(SiteRepoTest, AMirrorOfTheSitesDistroOpens) {
    make(R"({"format": 1, "site": "lab3", "distro": "el7", "packages": [{"path": "a"}]})");
    mirror::SiteRepo r = mirror::open_site_repo(site, repo);
    EXPECT_EQ(r.path, repo);
    ASSERT_TRUE(r.lock);
    EXPECT_EQ(r.lock->site, "lab3");
    EXPECT_EQ(r.lock->distro, "el7");
    EXPECT_EQ(r.lock->packages, 1u);
}

TEST_F(SiteRepoTest, AFolderWithoutLockOrRepodataIsRefusedWithWhatToRun) {
    std::string expected = repo.string() +
                           ": not a site repository (no repodata/repomd.xml or airstrap.lock); "
                           "make one with 'airstrap mirror SITE -o " +
                           repo.string() + "'";
    EXPECT_EQ(message_of([&] { mirror::open_site_repo(site, repo); }), expected);
    put(repo / "repodata/repomd.xml", "<repomd/>\n");
    EXPECT_EQ(message_of([&] { mirror::open_site_repo(site, repo); }), expected);
}

TEST_F(SiteRepoTest, AnotherDistrosMirrorIsRefused) {
    make(R"({"distro": "el9"})");
    try {
        mirror::open_site_repo(site, repo);
        ADD_FAILURE() << "an el9 mirror was accepted for an el7 site";
    } catch (const InputError& e) {
        EXPECT_EQ(describe(e), repo.string() +
                                   " was mirrored for el9, the site is el7: run 'airstrap "
                                   "mirror' again for this site");
        EXPECT_EQ(exit_code_of(e), ExitCode::bad_input);
    }
    make("{}");
    EXPECT_EQ(message_of([&] { mirror::open_site_repo(site, repo); }),
              repo.string() +
                  " was mirrored for an unknown distro, the site is el7: run 'airstrap mirror' "
                  "again for this site");
}

TEST_F(SiteRepoTest, ADamagedLockIsNamed) {
    make("{not json");
    EXPECT_EQ(message_of([&] {
                  mirror::open_site_repo(site, repo);
              }).rfind((repo / "airstrap.lock").string() + ": not valid JSON (", 0),
              0u);
}

TEST_F(SiteRepoTest, AnOptionalLockMayBeAbsentButIsCheckedWhenThere) {
    mirror::SiteRepo r = mirror::open_site_repo(site, repo, mirror::LockPolicy::optional);
    EXPECT_FALSE(r.lock);
    make(R"({"distro": "el8"})");
    EXPECT_NE(message_of([&] {
                  mirror::open_site_repo(site, repo, mirror::LockPolicy::optional);
              }).find("was mirrored for el8"),
              std::string::npos);
}
