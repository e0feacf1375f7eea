// A folder packed as a tar (owners by number, hard links, symlinks, extended attributes) and
// payloads extracted into a folder, where an entry that would land outside it is refused.
#include "repo-mirror/archive.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "common/error.hpp"
#include "common/subprocess.hpp"
#include "tests/unit/test_support.hpp"

namespace fs = std::filesystem;
using namespace airstrap;
using namespace airstrap::mirror;
using airstrap::testutil::put;
using airstrap::testutil::slurp;

namespace {

class ArchiveTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "airstrap-archive-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir = pattern;
    }
    void TearDown() override { fs::remove_all(dir); }

    // A tar written by Python's tarfile, which writes any entry.
    fs::path make_tar(const std::string& entries_py) {
        fs::path out = dir / "in.tar";
        std::string script =
            "import io, sys, tarfile\n"
            "t = tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT)\n"
            "def add(name, data=b'x', type=tarfile.REGTYPE, link='', uid=0, pax=None):\n"
            "    i = tarfile.TarInfo(name); i.type = type; i.linkname = link; i.uid = uid\n"
            "    i.size = len(data) if type == tarfile.REGTYPE else 0\n"
            "    i.mode = 0o755 if type == tarfile.DIRTYPE else 0o644\n"
            "    if pax: i.pax_headers = pax\n"
            "    t.addfile(i, io.BytesIO(data) if type == tarfile.REGTYPE else None)\n" +
            entries_py + "t.close()\n";
        SystemCommandRunner run;
        run_checked(run, {"python3", "-c", script, out.string()});
        return out;
    }
    std::string extract(const fs::path& tar, const fs::path& root) {
        try {
            ArchiveReader in(ArchiveReader::tar);
            in.open_file(tar, 1 << 16, "cannot read: ");
            in.extract_all(root, "the test payload");
        } catch (const std::exception& e) {
            return describe(e);
        }
        return "extracted";
    }

    fs::path dir;
};

TEST_F(ArchiveTest, ExtractKeepsFilesLinksAndOwners) {
    fs::create_directories(dir / "root");
    fs::path tar = make_tar(
        "add('./usr', type=tarfile.DIRTYPE)\n"
        "add('./usr/bin', type=tarfile.DIRTYPE)\n"
        "add('./usr/bin/rpm', b'#!rpm')\n"
        "add('./usr/bin/rpm2', type=tarfile.LNKTYPE, link='./usr/bin/rpm')\n"
        "add('./bin', type=tarfile.SYMTYPE, link='usr/bin')\n"
        "add('./var/lib/chrony', type=tarfile.DIRTYPE, uid=994)\n");
    ASSERT_EQ(extract(tar, dir / "root"), "extracted");
    EXPECT_EQ(slurp(dir / "root/usr/bin/rpm"), "#!rpm");
    EXPECT_TRUE(fs::equivalent(dir / "root/usr/bin/rpm", dir / "root/usr/bin/rpm2"));
    EXPECT_EQ(fs::read_symlink(dir / "root/bin"), "usr/bin");
    if (::geteuid() == 0) {
        struct stat st {};
        ASSERT_EQ(::stat((dir / "root/var/lib/chrony").c_str(), &st), 0);
        EXPECT_EQ(st.st_uid, 994u);
    }
}

TEST_F(ArchiveTest, ExtractRefusesEntriesThatLeaveTheRoot) {
    fs::create_directories(dir / "root");
    fs::create_directories(dir / "outside");
    // Through '..'.
    std::string dotdot = extract(make_tar("add('./../outside/evil', b'evil')\n"), dir / "root");
    EXPECT_NE(dotdot.find("cannot write /../outside/evil of the test payload"), std::string::npos)
        << dotdot;
    // Through a symlink the archive made first: the symlink is removed, not followed.
    std::string via_link =
        extract(make_tar("add('./etc', type=tarfile.SYMTYPE, link='" + (dir / "outside").string() +
                         "')\n"
                         "add('./etc/passwd', b'evil')\n"),
                dir / "root");
    EXPECT_EQ(via_link, "extracted");
    EXPECT_FALSE(fs::is_symlink(dir / "root/etc"));
    EXPECT_EQ(slurp(dir / "root/etc/passwd"), "evil");
    // A hard link to a file outside.
    put(dir / "outside/secret", "secret");
    std::string hard = extract(
        make_tar("add('./copy', type=tarfile.LNKTYPE, link='../outside/secret')\n"), dir / "root");
    EXPECT_NE(hard.find("cannot write /copy"), std::string::npos) << hard;
    EXPECT_FALSE(fs::exists(dir / "outside/evil"));
    EXPECT_FALSE(fs::exists(dir / "outside/passwd"));
    EXPECT_EQ(slurp(dir / "outside/secret"), "secret");
}

TEST_F(ArchiveTest, TreeIsPackedWithNumericOwnersLinksAndAttributes) {
    fs::path src = dir / "src";
    put(src / "usr/bin/tool", "tool");
    fs::create_hard_link(src / "usr/bin/tool", src / "usr/bin/tool2");
    fs::create_symlink("usr/bin", src / "bin");
    bool xattrs = ::setxattr((src / "usr/bin/tool").c_str(), "user.airstrap", "yes", 3, 0) == 0;
    if (::geteuid() == 0) {
        ASSERT_EQ(::chown((src / "usr/bin").c_str(), 994, 993), 0);
    }
    put(dir / "repo/Packages/a.rpm", "rpm");

    fs::path tar = dir / "out.tar";
    ArchiveWriter out;
    out.open_file(tar, "cannot write: ");
    out.add_tree(src, ".");
    out.add_tree(dir / "repo", "./opt/airstrap/repo", true);
    out.close("cannot close: ");

    struct Seen {
        std::string hardlink, symlink, xattr;
        long uid = -1;
        bool has_uname = false;
    };
    std::map<std::string, Seen> seen;
    ArchiveReader in(ArchiveReader::tar);
    in.open_file(tar, 1 << 16, "cannot read: ");
    while (archive_entry* e = in.next("damaged: ")) {
        Seen s;
        if (const char* h = archive_entry_hardlink(e)) s.hardlink = h;
        if (const char* l = archive_entry_symlink(e)) s.symlink = l;
        s.uid = static_cast<long>(archive_entry_uid(e));
        const char* uname = archive_entry_uname(e);
        s.has_uname = uname && *uname;
        archive_entry_xattr_reset(e);
        const char* name = nullptr;
        const void* value = nullptr;
        std::size_t size = 0;
        while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
            if (std::string(name) == "user.airstrap")
                s.xattr.assign(static_cast<const char*>(value), size);
        }
        std::string path = archive_entry_pathname(e);
        if (path.size() > 1 && path.ends_with('/')) path.pop_back();  // a folder
        seen[path] = s;
    }
    ASSERT_TRUE(seen.count("./usr/bin/tool")) << "names are ./PATH";
    ASSERT_TRUE(seen.count("./opt/airstrap/repo/Packages/a.rpm"));
    EXPECT_EQ(seen["./opt/airstrap/repo/Packages/a.rpm"].uid, 0);
    EXPECT_EQ(seen["./bin"].symlink, "usr/bin");
    // One of the two names is the file, the other a link to it.
    EXPECT_TRUE(seen["./usr/bin/tool2"].hardlink == "./usr/bin/tool" ||
                seen["./usr/bin/tool"].hardlink == "./usr/bin/tool2");
    for (const auto& [name, s] : seen) EXPECT_FALSE(s.has_uname) << name << " has a user name";
    if (xattrs) {
        EXPECT_EQ(seen["./usr/bin/tool"].xattr, "yes");
        EXPECT_EQ(seen["./usr/bin/tool2"].xattr, "yes");
    }
    if (::geteuid() == 0) {
        EXPECT_EQ(seen["./usr/bin"].uid, 994);
    }
}

}  // namespace
