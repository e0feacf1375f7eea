// Commands chrooted into a staging tree, tried as a hostile package scriptlet would: what it
// can see and change of the host (its network, mounts, devices, PID space, host name, the
// folders bound in read-only) and what it leaves behind. The tree is busybox-static alone.
// Needs root (as `build qcow2` does): skipped otherwise, a failure under CI=true.
#include "builder/staging.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "common/error.hpp"
#include "common/text.hpp"
#include "tests/unit/test_support.hpp"

namespace fs = std::filesystem;
using namespace airstrap;
using namespace airstrap::builder;
using airstrap::testutil::put;
using airstrap::testutil::slurp;

namespace {

class StagingTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string why;
        if (::geteuid() != 0) why = "not root";
        if (!fs::exists("/bin/busybox")) why = "no /bin/busybox (apt-get install busybox-static)";
        if (!why.empty()) {
            const char* ci = std::getenv("CI");
            if (ci && std::string(ci) == "true") FAIL() << "under CI=true: " << why;
            GTEST_SKIP() << why;
        }
        std::string pattern = (fs::temp_directory_path() / "airstrap-staging-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir = pattern;
        tree = std::make_unique<StagingTree>(dir / "tree");
        fs::create_directories(tree->host_path("/bin"));
        fs::copy_file("/bin/busybox", tree->host_path("/bin/busybox"));
        fs::create_symlink("busybox", tree->host_path("/bin/sh"));
    }
    void TearDown() override {
        tree.reset();
        if (!dir.empty()) fs::remove_all(dir);
    }
    ProcessResult sh(const std::string& script, const std::vector<StagingBind>& binds = {}) {
        return tree->run({"/bin/busybox", "sh", "-c", script}, binds);
    }

    fs::path dir;
    std::unique_ptr<StagingTree> tree;
};

TEST_F(StagingTest, RunsChrootedAsPidOneOfItsOwnNamespace) {
    ProcessResult r = sh("echo pid=$$; echo uid=$(busybox id -u); busybox ls /");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("pid=1\n"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("uid=0\n"), std::string::npos) << r.output;
    // Only the tree is /: the host's folders (this test's own among them) are not there.
    EXPECT_EQ(r.output.find("work"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("bin"), std::string::npos) << r.output;
    // Its /proc is its PID namespace's: the shell and its pipe's two commands, nothing else.
    ProcessResult ps = sh("busybox ls /proc | busybox grep '^[0-9]'");
    EXPECT_EQ(text::split(text::trim(ps.output), '\n').size(), 3u) << ps.output;
    for (const auto& pid : text::split(text::trim(ps.output), '\n'))
        EXPECT_LT(text::parse_int(pid).value_or(99), 10) << ps.output;
}

TEST_F(StagingTest, HasNoNetworkButItsOwnLoopback) {
    ProcessResult r = sh("busybox cat /proc/net/dev");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("lo:"), std::string::npos) << r.output;
    // Header (2 lines) and lo: no other interface.
    EXPECT_EQ(text::split(text::trim(r.output), '\n').size(), 3u) << r.output;
}

TEST_F(StagingTest, DevHoldsSixNodesAndNoDisk) {
    ProcessResult r = sh("busybox ls /dev; echo x > /dev/null && echo null-ok");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    for (const char* node : {"null", "zero", "full", "random", "urandom", "tty", "fd"})
        EXPECT_NE(r.output.find(std::string(node) + "\n"), std::string::npos) << node;
    EXPECT_NE(r.output.find("null-ok"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("sda"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("vda"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("mem\n"), std::string::npos) << r.output;
    // A device node made in the tree's /dev does not reach the host's /dev or the tree.
    sh("busybox mknod /dev/evil b 8 0");
    EXPECT_FALSE(fs::exists(tree->host_path("/dev/evil")));
}

TEST_F(StagingTest, SysIsReadOnlyAndRunIsThrownAway) {
    ProcessResult sys = sh("echo 1 > /sys/kernel/mm/ksm/run");
    EXPECT_NE(sys.exit_code, 0) << sys.output;
    ProcessResult run = sh("echo x > /run/left && busybox cat /run/left");
    EXPECT_EQ(run.exit_code, 0) << run.output;
    EXPECT_FALSE(fs::exists(tree->host_path("/run/left")));
    // Files written elsewhere are the tree's: that is what the tree is for.
    EXPECT_EQ(sh("echo kept > /etc-file").exit_code, 0);
    EXPECT_EQ(slurp(tree->host_path("/etc-file")), "kept\n");
}

TEST_F(StagingTest, MountsStayInsideAndBindsAreReadOnly) {
    fs::create_directories(dir / "repo");
    put(dir / "repo/pkg.rpm", "package");
    ProcessResult r =
        sh("busybox cat /opt/repo/pkg.rpm; echo; echo evil > /opt/repo/pkg.rpm || echo refused; "
           "busybox umount /sys && echo unmounted-sys; busybox mount -t tmpfs t /bin && echo "
           "mounted-over-bin",
           {{dir / "repo", "/opt/repo"}});
    EXPECT_NE(r.output.find("package"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("refused"), std::string::npos) << r.output;
    EXPECT_EQ(slurp(dir / "repo/pkg.rpm"), "package");
    // Whatever it mounted or unmounted, the host's mount table never saw the tree.
    std::string mounts = slurp("/proc/self/mountinfo");
    EXPECT_EQ(mounts.find(tree->root().string()), std::string::npos) << mounts;
    EXPECT_TRUE(fs::exists("/sys/kernel"));
    EXPECT_TRUE(fs::exists(tree->host_path("/bin/busybox")));
}

TEST_F(StagingTest, LeftBehindProcessesEndWithTheCommand) {
    auto t = std::chrono::steady_clock::now();
    ProcessResult r = sh("busybox sleep 600 & busybox sleep 600 & echo started");
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_LT(seconds, 30) << "a daemon a scriptlet started kept run() waiting";
}

TEST_F(StagingTest, HostNameIsItsOwn) {
    char before[256] = {};
    ::gethostname(before, sizeof before - 1);
    ProcessResult r = sh("busybox hostname evil && busybox hostname");
    EXPECT_NE(r.output.find("evil"), std::string::npos) << r.output;
    char after[256] = {};
    ::gethostname(after, sizeof after - 1);
    EXPECT_STREQ(before, after);
}

TEST_F(StagingTest, ExitCodesAndMissingProgramsAreReported) {
    EXPECT_EQ(sh("exit 7").exit_code, 7);
    ProcessResult missing = tree->run({"rpm", "-qa"});
    EXPECT_EQ(missing.exit_code, 127);
    EXPECT_NE(missing.output.find("rpm failed, errno 2"), std::string::npos) << missing.output;
    std::string message = testutil::message_of([&] {
        tree->command({"/bin/sh", "-c", "echo bad; exit 3"});
    });
    EXPECT_EQ(message, "'/bin/sh -c echo bad; exit 3' in the staging tree failed (exit 3): bad");
}

}  // namespace
