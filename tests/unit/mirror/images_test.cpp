// The cloud's images in the site repository: hashed (cached by size and mtime), copied or
// hard-linked from the previous output, listed in the lock and checked by --verify.
#include "repo-mirror/images.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/checksum.hpp"
#include "common/error.hpp"
#include "common/file_io.hpp"
#include "repo-mirror/mirror.hpp"
#include "tests/unit/test_support.hpp"

namespace fs = std::filesystem;
using namespace airstrap;
using namespace airstrap::mirror;
using nlohmann::json;

using airstrap::testutil::slurp;

namespace {

ino_t inode(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_ino;
}

class ImagesTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "airstrap-images-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir = pattern;
        fs::create_directories(dir / "site/images");
        source = dir / "site/images/cirros.img";
        std::ofstream(source, std::ios::binary) << std::string(100000, 'q') << "cirros";
        site.file = "site/site.yaml";
        site::CloudImage image;
        image.name = "cirros";
        image.source = source.string();
        image.source_at = {94, 43};
        site.cloud.images.push_back(image);
    }
    void TearDown() override { fs::remove_all(dir); }

    // A new tree with the images placed, as a mirror run makes it beside the output.
    fs::path place(const std::string& name, const fs::path& previous, const json& old_lock,
                   std::size_t* reused = nullptr) {
        fs::path tree = dir / name;
        fs::create_directories(tree);
        auto images = hash_images(site, old_lock);
        std::size_t r = place_images(images, tree, previous, old_lock);
        if (reused) *reused = r;
        write_file_atomic(tree / "airstrap.lock",
                          json{{"packages", json::array()}, {"images", images_lock(images)}}.dump(),
                          0644);
        return tree;
    }

    json lock_of(const fs::path& tree) { return json::parse(slurp(tree / "airstrap.lock")); }

    fs::path dir, source;
    site::Site site;
};

TEST_F(ImagesTest, CopiedToImagesAndListedWithSizeAndSha256) {
    std::size_t reused = 9;
    fs::path repo = place("repo", dir / "none", json(), &reused);
    EXPECT_EQ(reused, 0u);
    EXPECT_EQ(slurp(repo / "images/cirros.img"), slurp(source));
    json entry = lock_of(repo)["images"][0];
    EXPECT_EQ(entry["path"], "images/cirros.img");
    EXPECT_EQ(entry["name"], "cirros");
    EXPECT_EQ(entry["source"], source.string());
    EXPECT_EQ(entry["size"], 100006);
    EXPECT_EQ(entry["sha256"], file_checksum_hex(ChecksumType::sha256, source));
    EXPECT_EQ(fs::status(repo / "images/cirros.img").permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                  fs::perms::others_read);
}

TEST_F(ImagesTest, AReRunLinksTheUnchangedImageInsteadOfCopyingIt) {
    fs::path first = place("first", dir / "none", json());
    std::size_t reused = 0;
    fs::path second = place("second", first, lock_of(first), &reused);
    EXPECT_EQ(reused, 1u);
    EXPECT_EQ(inode(first / "images/cirros.img"), inode(second / "images/cirros.img"));
}

TEST_F(ImagesTest, TheHashIsTakenFromTheLockWhileSizeAndMtimeAreUnchanged) {
    fs::path first = place("first", dir / "none", json());
    json lock = lock_of(first);
    lock["images"][0]["sha256"] = "cached";  // proves the file was not read again
    EXPECT_EQ(hash_images(site, lock)[0].sha256, "cached");
    std::ofstream(source, std::ios::app) << "more";
    EXPECT_EQ(hash_images(site, lock)[0].sha256, file_checksum_hex(ChecksumType::sha256, source));
}

TEST_F(ImagesTest, AChangedImageIsCopiedAgain) {
    fs::path first = place("first", dir / "none", json());
    std::ofstream(source, std::ios::binary) << "a newer cirros";
    std::size_t reused = 9;
    fs::path second = place("second", first, lock_of(first), &reused);
    EXPECT_EQ(reused, 0u);
    EXPECT_EQ(slurp(second / "images/cirros.img"), "a newer cirros");
    EXPECT_EQ(slurp(first / "images/cirros.img").size(), 100006u);  // the old output untouched
}

TEST_F(ImagesTest, AMissingSourceNamesTheSiteFileLineAndThePath) {
    fs::remove(source);
    try {
        hash_images(site, json());
        ADD_FAILURE() << "a missing image was accepted";
    } catch (const InputError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "site/site.yaml:94:43: image cirros: cannot read " + source.string() +
                      " (No such file or directory); put the image file there or correct "
                      "cloud.images[0].source");
    }
    fs::create_directory(source);
    EXPECT_THROW(hash_images(site, json()), InputError);
}

TEST_F(ImagesTest, VerifyFindsChangedMissingAndUnlistedImages) {
    fs::path repo = place("repo", dir / "none", json());
    json lock = lock_of(repo);
    std::vector<std::string> problems;
    EXPECT_EQ(verify_images(repo, lock, problems), 1u);
    EXPECT_TRUE(problems.empty());

    std::ofstream(repo / "images/extra.img") << "x";
    std::ofstream(repo / "images/cirros.img", std::ios::binary) << std::string(100006, 'q');
    problems.clear();
    verify_images(repo, lock, problems);
    EXPECT_EQ(problems, (std::vector<std::string>{"images/cirros.img: sha256 differs from the lock",
                                                  "images/extra.img: not in the lock"}));

    std::ofstream(repo / "images/cirros.img", std::ios::app) << "x";
    problems.clear();
    verify_images(repo, lock, problems);
    EXPECT_EQ(problems[0], "images/cirros.img: size differs from the lock");

    fs::remove(repo / "images/cirros.img");
    problems.clear();
    verify_images(repo, lock, problems);
    EXPECT_EQ(problems[0], "images/cirros.img: missing");

    lock["images"][0]["path"] = "../site/images/cirros.img";
    problems.clear();
    verify_images(repo, lock, problems);
    EXPECT_EQ(problems[0], "../site/images/cirros.img: unsafe path in the lock");
}

TEST_F(ImagesTest, VerifyMirrorChecksTheImagesOfTheLock) {
    fs::path repo = place("repo", dir / "none", json());
    VerifyReport ok = verify_mirror(repo);
    EXPECT_EQ(ok.images_checked, 1u);
    EXPECT_TRUE(ok.problems.empty());
    std::ofstream(repo / "images/cirros.img", std::ios::app) << "x";
    VerifyReport bad = verify_mirror(repo);
    ASSERT_EQ(bad.problems.size(), 1u);
    EXPECT_EQ(bad.problems[0], "images/cirros.img: size differs from the lock");
}

TEST_F(ImagesTest, ALockFromBeforeImagesListsNone) {
    std::vector<std::string> problems;
    EXPECT_EQ(verify_images(dir, json{{"packages", json::array()}}, problems), 0u);
    EXPECT_TRUE(problems.empty());
    EXPECT_TRUE(hash_images(site::Site{}, json()).empty());
}

}  // namespace
