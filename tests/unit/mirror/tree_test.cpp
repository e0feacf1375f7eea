// Source trees read in place, and archives refused whole when an entry is unsafe.
#include "repo-mirror/tree.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/error.hpp"
#include "common/subprocess.hpp"

namespace fs = std::filesystem;
using namespace airstrap;
using namespace airstrap::mirror;

namespace {

class TreeTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "airstrap-tree-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir = pattern;
        fs::create_directories(dir / "src/repo/Packages");
        std::ofstream(dir / "src/repo/Packages/a.rpm") << "package a";
        std::ofstream(dir / "src/repo/README") << "hello";
    }
    void TearDown() override { fs::remove_all(dir); }

    // Builds an archive with Python's tarfile, which can write any entry without root.
    fs::path make_tar(const std::string& name, const std::string& entries_py) {
        fs::path out = dir / name;
        std::string script =
            "import io, sys, tarfile\n"
            "t = tarfile.open(sys.argv[1], 'w:gz')\n"
            "def add(name, data=b'x', type=tarfile.REGTYPE, link=''):\n"
            "    i = tarfile.TarInfo(name); i.type = type; i.linkname = link; i.size = len(data) "
            "if type == tarfile.REGTYPE else 0\n"
            "    t.addfile(i, io.BytesIO(data) if type == tarfile.REGTYPE else None)\n"
            "add('repo/ok.txt', b'fine')\n" +
            entries_py + "t.close()\n";
        SystemCommandRunner run;
        run_checked(run, {"python3", "-c", script, out.string()});
        return out;
    }

    std::string refusal(const fs::path& archive) {
        try {
            open_archive(archive);
        } catch (const InputError& e) {
            return e.what();
        }
        return "accepted";
    }

    fs::path dir;
};

TEST_F(TreeTest, DirectoryListsAndStreamsFiles) {
    auto tree = open_directory(dir / "src");
    ASSERT_EQ(tree->files().size(), 2u);
    EXPECT_EQ(tree->files().at("repo/Packages/a.rpm"), 9u);
    EXPECT_EQ(tree->read("repo/README", 100), "hello");
    EXPECT_THROW(tree->read("repo/README", 3), InputError);
    EXPECT_THROW(tree->read("nope", 100), InputError);
}

TEST_F(TreeTest, TarballIsReadInPlace) {
    SystemCommandRunner run;
    run_checked(run,
                {"tar", "-C", (dir / "src").string(), "-czf", (dir / "r.tar.gz").string(), "repo"});
    auto tree = open_archive(dir / "r.tar.gz");
    EXPECT_EQ(tree->files().size(), 2u);
    EXPECT_EQ(tree->read("repo/Packages/a.rpm", 100), "package a");
    std::vector<std::string> seen;
    tree->stream({"repo/README", "repo/Packages/a.rpm", "missing"},
                 [&](const std::string& p, ByteStream&) { seen.push_back(p); });
    EXPECT_EQ(seen.size(), 2u);
}

TEST_F(TreeTest, XzAndZstdTarballs) {
    SystemCommandRunner run;
    run_checked(run,
                {"tar", "-C", (dir / "src").string(), "-cJf", (dir / "r.tar.xz").string(), "repo"});
    run_checked(run, {"tar", "-C", (dir / "src").string(), "--zstd", "-cf",
                      (dir / "r.tar.zst").string(), "repo"});
    EXPECT_EQ(open_archive(dir / "r.tar.xz")->read("repo/README", 10), "hello");
    EXPECT_EQ(open_archive(dir / "r.tar.zst")->read("repo/README", 10), "hello");
}

TEST_F(TreeTest, RefusesParentTraversal) {
    auto t = make_tar("dotdot.tar.gz", "add('repo/../../etc/passwd')\n");
    EXPECT_EQ(refusal(t), t.string() +
                              ": refusing the archive: entry 'repo/../../etc/passwd' is "
                              "absolute or climbs out with '..'");
}

TEST_F(TreeTest, RefusesAbsolutePaths) {
    auto t = make_tar("abs.tar.gz", "add('/etc/cron.d/x')\n");
    EXPECT_NE(refusal(t).find("entry '/etc/cron.d/x' is absolute"), std::string::npos)
        << refusal(t);
}

TEST_F(TreeTest, RefusesDeviceNodes) {
    auto t = make_tar("dev.tar.gz", "add('repo/sda', type=tarfile.BLKTYPE)\n");
    EXPECT_NE(refusal(t).find("entry 'repo/sda' is a device, fifo or socket"), std::string::npos);
    auto f = make_tar("fifo.tar.gz", "add('repo/pipe', type=tarfile.FIFOTYPE)\n");
    EXPECT_NE(refusal(f).find("is a device, fifo or socket"), std::string::npos);
}

TEST_F(TreeTest, RefusesSymlinksOutButNotIn) {
    auto out = make_tar("lnk.tar.gz",
                        "add('repo/shadow', type=tarfile.SYMTYPE, link='../../etc/shadow')\n");
    EXPECT_EQ(refusal(out), out.string() +
                                ": refusing the archive: symlink 'repo/shadow' -> "
                                "'../../etc/shadow' points outside it");
    auto abs = make_tar("lnk2.tar.gz", "add('repo/x', type=tarfile.SYMTYPE, link='/etc/shadow')\n");
    EXPECT_NE(refusal(abs).find("points outside it"), std::string::npos);
    auto in =
        make_tar("lnk3.tar.gz", "add('repo/sub/x', type=tarfile.SYMTYPE, link='../ok.txt')\n");
    EXPECT_EQ(refusal(in), "accepted");
}

TEST_F(TreeTest, NotAnArchive) {
    std::ofstream(dir / "junk.bin") << "this is not an archive";
    EXPECT_NE(refusal(dir / "junk.bin").find("not an ISO image or tar archive"), std::string::npos);
}

TEST(SafePath, Rules) {
    EXPECT_TRUE(is_safe_relative_path("Packages/a/a.rpm"));
    EXPECT_FALSE(is_safe_relative_path(""));
    EXPECT_FALSE(is_safe_relative_path("/etc/passwd"));
    EXPECT_FALSE(is_safe_relative_path("../x"));
    EXPECT_FALSE(is_safe_relative_path("a/../../x"));
    EXPECT_FALSE(is_safe_relative_path("a//b"));
    EXPECT_FALSE(is_safe_relative_path("a/./b"));
    EXPECT_FALSE(is_safe_relative_path("a\\\\..\\\\b"));
}

}  // namespace
