#include "common/file_io.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace airstrap {
namespace {

namespace fs = std::filesystem;

// Sets the umask for one scope.
class UmaskGuard {
  public:
    explicit UmaskGuard(mode_t mask) : old_(::umask(mask)) {}
    ~UmaskGuard() { ::umask(old_); }

  private:
    mode_t old_;
};

class FileIoTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string pattern = (fs::path(::testing::TempDir()) / "airstrap-fileio-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
        dir_ = pattern;
    }
    void TearDown() override {
        std::error_code ec;
        fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add, ec);
        fs::remove_all(dir_, ec);
    }

    // Every name in the folder, sorted.
    std::vector<std::string> entries() const {
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(dir_)) {
            names.push_back(e.path().filename().string());
        }
        std::sort(names.begin(), names.end());
        return names;
    }

    static std::string slurp(const fs::path& p) {
        std::ifstream in(p, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

    static void make_file(const fs::path& p, const std::string& data) {
        std::ofstream out(p, std::ios::binary);
        out << data;
        ASSERT_TRUE(out.good());
    }

    static mode_t mode_of(const fs::path& p) {
        struct stat st {};
        EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
        return st.st_mode & 07777;
    }

    fs::path dir_;
};

// ---- AtomicFile ----------------------------------------------------------------------------

TEST_F(FileIoTest, CommitCreatesTheFileWithMode0600RegardlessOfUmask) {
    UmaskGuard mask(0);  // a umask that would let 0666 through
    fs::path target = dir_ / "secrets.yaml";
    AtomicFile out(target, 0600);
    EXPECT_EQ(out.target(), target);
    out.write("site_secret: x\n");
    out.commit();
    EXPECT_EQ(slurp(target), "site_secret: x\n");
    EXPECT_EQ(mode_of(target), 0600u);
    EXPECT_EQ(entries(), std::vector<std::string>{"secrets.yaml"});
}

TEST_F(FileIoTest, CommitCreatesTheFileWithMode0644RegardlessOfUmask) {
    UmaskGuard mask(077);  // a umask that would strip the group and other bits
    fs::path target = dir_ / "ks.cfg";
    {
        AtomicFile out(target, 0644);
        out.write("part ");
        out.write("one\n");
        out.commit();
    }
    EXPECT_EQ(slurp(target), "part one\n");
    EXPECT_EQ(mode_of(target), 0644u);
    EXPECT_EQ(entries(), std::vector<std::string>{"ks.cfg"});
}

// A scratch file (not synced) ends up exactly as a durable one: content, mode, no temp left.
TEST_F(FileIoTest, ScratchCommitPutsTheFileInPlaceLikeADurableOne) {
    UmaskGuard mask(077);
    write_file_atomic(dir_ / "staged.ks", "scratch\n", 0600, Durability::scratch);
    write_file_atomic(dir_ / "menu.cfg", "menu\n", 0644, Durability::scratch);
    EXPECT_EQ(slurp(dir_ / "staged.ks"), "scratch\n");
    EXPECT_EQ(mode_of(dir_ / "staged.ks"), 0600u);
    EXPECT_EQ(mode_of(dir_ / "menu.cfg"), 0644u);
    EXPECT_EQ(entries(), (std::vector<std::string>{"menu.cfg", "staged.ks"}));
}

TEST_F(FileIoTest, TempFileIsPrivateAndHiddenUntilCommit) {
    UmaskGuard mask(0);
    fs::path target = dir_ / "out.txt";
    AtomicFile out(target, 0644);
    out.write("data");
    EXPECT_FALSE(fs::exists(target));
    auto names = entries();
    ASSERT_EQ(names.size(), 1u);
    EXPECT_EQ(names[0].rfind(".out.txt.tmp-", 0), 0u) << names[0];
    EXPECT_EQ(mode_of(dir_ / names[0]), 0600u);
    out.commit();
    EXPECT_EQ(entries(), std::vector<std::string>{"out.txt"});
}

TEST_F(FileIoTest, CommitReplacesAnExistingFileAtomically) {
    fs::path target = dir_ / "site.json";
    make_file(target, "old contents\n");
    ::chmod(target.c_str(), 0600);
    // An open reader of the old file keeps seeing the old file: rename, not rewrite.
    std::ifstream old_reader(target, std::ios::binary);
    ASSERT_TRUE(old_reader.is_open());

    AtomicFile out(target, 0644);
    out.write("new contents\n");
    EXPECT_EQ(slurp(target), "old contents\n");  // not touched before commit
    out.commit();

    EXPECT_EQ(slurp(target), "new contents\n");
    EXPECT_EQ(mode_of(target), 0644u);
    EXPECT_EQ(entries(), std::vector<std::string>{"site.json"});
    std::string old((std::istreambuf_iterator<char>(old_reader)), {});
    EXPECT_EQ(old, "old contents\n");
}

TEST_F(FileIoTest, DestructionWithoutCommitLeavesNothing) {
    fs::path target = dir_ / "answers.txt";
    {
        AtomicFile out(target, 0644);
        out.write("half written");
        EXPECT_EQ(entries().size(), 1u);  // the temp file exists meanwhile
    }
    EXPECT_FALSE(fs::exists(target));
    EXPECT_TRUE(entries().empty());
}

TEST_F(FileIoTest, DestructionWithoutCommitKeepsTheExistingTarget) {
    fs::path target = dir_ / "answers.txt";
    make_file(target, "previous\n");
    {
        AtomicFile out(target, 0644);
        out.write("replacement that never lands");
    }
    EXPECT_EQ(slurp(target), "previous\n");
    EXPECT_EQ(entries(), std::vector<std::string>{"answers.txt"});
}

TEST_F(FileIoTest, ExceptionBeforeCommitLeavesNothing) {
    fs::path target = dir_ / "render.out";
    EXPECT_THROW(
        {
            AtomicFile out(target, 0644);
            out.write("partial");
            throw std::runtime_error("renderer failed");
        },
        std::runtime_error);
    EXPECT_TRUE(entries().empty());
}

TEST_F(FileIoTest, FailedRenameLeavesNoTempFile) {
    // The target is a non-empty folder: rename(2) over it fails.
    fs::path target = dir_ / "occupied";
    fs::create_directory(target);
    make_file(target / "inside", "x");
    {
        AtomicFile out(target, 0644);
        out.write("data");
        EXPECT_THROW(out.commit(), SystemError);
    }
    EXPECT_EQ(entries(), std::vector<std::string>{"occupied"});
    EXPECT_TRUE(fs::is_directory(target));
}

TEST_F(FileIoTest, MissingFolderIsASystemErrorNamingIt) {
    fs::path target = dir_ / "no-such-dir" / "file";
    try {
        AtomicFile out(target, 0644);
        FAIL() << "expected SystemError";
    } catch (const SystemError& e) {
        EXPECT_NE(std::string(e.what()).find((dir_ / "no-such-dir").string()), std::string::npos)
            << e.what();
        EXPECT_EQ(e.errnum(), ENOENT);
    }
}

TEST_F(FileIoTest, ManyOpenFilesAllCleanedUp) {
    // More than the signal handler's fixed slots; destruction still removes every temp.
    {
        std::vector<std::unique_ptr<AtomicFile>> files;
        for (int i = 0; i < 80; ++i) {
            files.push_back(std::make_unique<AtomicFile>(dir_ / ("f" + std::to_string(i)), 0644));
            files.back()->write("x");
        }
        EXPECT_EQ(entries().size(), 80u);
    }
    EXPECT_TRUE(entries().empty());
}

TEST_F(FileIoTest, WriteFileAtomicWritesContentAndMode) {
    UmaskGuard mask(0);
    fs::path target = dir_ / "airstrap.json";
    write_file_atomic(target, "{\"a\": 1}\n", 0640);
    EXPECT_EQ(slurp(target), "{\"a\": 1}\n");
    EXPECT_EQ(mode_of(target), 0640u);
    write_file_atomic(target, "", 0600);
    EXPECT_EQ(slurp(target), "");
    EXPECT_EQ(mode_of(target), 0600u);
    EXPECT_EQ(entries(), std::vector<std::string>{"airstrap.json"});
}

TEST_F(FileIoTest, WriteFileAtomicBinaryData) {
    std::string data;
    for (int i = 0; i < 100000; ++i) data += static_cast<char>(i % 256);
    fs::path target = dir_ / "blob";
    write_file_atomic(target, data, 0600);
    EXPECT_EQ(slurp(target), data);
}

// A child that is killed by SIGTERM while writing leaves no temp file behind, and still
// dies of SIGTERM (the handler re-raises it).
TEST_F(FileIoTest, SigtermRemovesTheTempFileAndStillKills) {
    struct sigaction current {};
    ASSERT_EQ(::sigaction(SIGTERM, nullptr, &current), 0);
    if (current.sa_handler == SIG_IGN) GTEST_SKIP() << "SIGTERM is ignored in this environment";

    fs::path target = dir_ / "out.yaml";
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0) << std::strerror(errno);
    if (pid == 0) {
        // Child: no gtest assertions here; report failures through the exit status.
        try {
            AtomicFile out(target, 0644);
            out.write("partial output\n");
            int temps = 0;
            for (const auto& e : fs::directory_iterator(dir_)) {
                if (e.path().filename().string().rfind(".out.yaml.tmp-", 0) == 0) ++temps;
            }
            if (temps != 1) ::_exit(3);  // the test would prove nothing
            ::raise(SIGTERM);
            ::_exit(4);  // not reached if SIGTERM kills
        } catch (...) {
            ::_exit(5);
        }
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status))
        << "child exited with status " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    EXPECT_EQ(WTERMSIG(status), SIGTERM);
    EXPECT_TRUE(entries().empty());
}

// ---- read_file -----------------------------------------------------------------------------

TEST_F(FileIoTest, ReadFileReturnsTheWholeFile) {
    fs::path p = dir_ / "site.yaml";
    std::string data = "site:\n  name: lab\n";
    data += std::string("\0binary\xff", 8);
    make_file(p, data);
    EXPECT_EQ(read_file(p, 1024), data);
}

TEST_F(FileIoTest, ReadFileExactlyAtTheCapIsAccepted) {
    fs::path p = dir_ / "exact";
    const std::size_t max = 100000;  // larger than one read(2) chunk
    make_file(p, std::string(max, 'x'));
    std::string got = read_file(p, max);
    EXPECT_EQ(got.size(), max);
    EXPECT_EQ(got, std::string(max, 'x'));
}

TEST_F(FileIoTest, ReadFileOneByteOverTheCapIsInputError) {
    fs::path p = dir_ / "toolarge";
    const std::size_t max = 4096;
    make_file(p, std::string(max + 1, 'x'));
    try {
        read_file(p, max);
        FAIL() << "expected InputError";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
        EXPECT_EQ(e.exit_code(), ExitCode::bad_input);
    }
}

TEST_F(FileIoTest, ReadFileEmptyFile) {
    fs::path p = dir_ / "empty";
    make_file(p, "");
    EXPECT_EQ(read_file(p, 0), "");
    EXPECT_EQ(read_file(p, 10), "");
}

TEST_F(FileIoTest, ReadFileCapAppliesToFilesWithoutASize) {
    // A character device reports size 0; the cap must hold while reading.
    if (!fs::exists("/dev/zero")) GTEST_SKIP() << "no /dev/zero";
    EXPECT_THROW(read_file("/dev/zero", 1000), InputError);
}

// A missing input is the user's mistake (exit code 2), and the message names the path.
// (Changed in commit 1425166: this used to be a SystemError.)
TEST_F(FileIoTest, ReadFileMissingIsAnInputErrorNamingThePath) {
    fs::path p = dir_ / "does-not-exist.yaml";
    try {
        read_file(p, 1024);
        FAIL() << "expected an exception";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
        EXPECT_EQ(exit_code_of(e), ExitCode::bad_input);
    }
}

// Any other failure to open is a SystemError naming the path, with the strerror text.
TEST_F(FileIoTest, ReadFileOpenFailureIsSystemErrorNamingThePath) {
    fs::path file = dir_ / "plain";
    make_file(file, "x");
    fs::path p = file / "child.yaml";  // a path through a regular file: ENOTDIR
    try {
        read_file(p, 1024);
        FAIL() << "expected SystemError";
    } catch (const SystemError& e) {
        EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find(std::strerror(ENOTDIR)), std::string::npos)
            << e.what();
        EXPECT_EQ(e.errnum(), ENOTDIR);
        EXPECT_EQ(exit_code_of(e), ExitCode::failure);
    }
}

TEST_F(FileIoTest, ReadFileOfADirectoryIsInputError) {
    try {
        read_file(dir_, 1024);
        FAIL() << "expected InputError";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace airstrap

TEST(RemoveStaleOutputs, RemovesOnlyTheKilledRunsLeftovers) {
    std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("airstrap-stale-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir / ".site.iso.staging-abc123" / "ks");
    std::ofstream(dir / ".site.iso.tmp-XYZ123") << "half";
    std::ofstream(dir / "site.iso") << "the previous output";
    std::ofstream(dir / ".other.iso.tmp-XYZ123") << "another target's";
    airstrap::remove_stale_outputs(dir, "site.iso");
    std::vector<std::string> left;
    for (const auto& e : std::filesystem::directory_iterator(dir))
        left.push_back(e.path().filename());
    std::sort(left.begin(), left.end());
    EXPECT_EQ(left, (std::vector<std::string>{".other.iso.tmp-XYZ123", "site.iso"}));
    std::filesystem::remove_all(dir);
}
