// The node setup steps in a sandbox root (a temp folder), with a recording fake CommandRunner
// that answers as CentOS 7 would: the files written (bytes and modes), the exact commands,
// idempotence (a second run changes nothing and runs no disable/remove) and the error texts.
#include "firstboot/steps.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/text.hpp"
#include "site/site_file.hpp"
#include "site/site_json.hpp"
#include "tests/unit/firstboot/fake_runner.hpp"

namespace fs = std::filesystem;
using namespace airstrap;
using namespace airstrap::firstboot;
using namespace std::chrono_literals;
using airstrap::firstboot::testing::FakeRunner;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void put(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

unsigned mode_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
}

// The lab3 example, as the kickstart hands it to the node (site.yaml → site.json).
node::Site lab3() {
    fs::path p = fs::path(AIRSTRAP_SOURCE_DIR) / "examples/lab3/site.yaml";
    auto file = site::SiteFile::from_text("site.yaml", slurp(p), p.parent_path());
    EXPECT_TRUE(file->ok()) << file->diag().render();
    return node::parse_site_json(
        node::site_json_text(site::node_site(file->site(), airstrap::crypto::Bytes(32, 0x42))));
}

const std::string ed25519 =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK4XiyH8PoovIO2/RS8Pik1evH/KFx3D1HZZ740QBb8c";
const std::string ed25519_other =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO/8YxGMGAKuDylHkLw6yrSSWOj6cuj73WV/7u9ZETiB";
const std::string ecdsa =
    "ecdsa-sha2-nistp256 "
    "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHL9xsdwSVcYSkEkkR3toRpukHnXVl8di5J8rDfSY"
    "Nvb3trKXLYZjh2mYn4s7baibf4AjrjTgsh3cxb4VOGlpLw=";
const std::string rsa =
    "ssh-rsa "
    "AAAAB3NzaC1yc2EAAAADAQABAAAAgQDawdQC9HCfYMsEJCBnm/P5nKc1jdwH8gATI6n9+MUiC3L/"
    "gAV870l+wGNf4T9TP0VWrR0r4niz+30Ys3paaKwasuoL18o3QA/QU1RzdMp62RQAezhxB4ilwkClyPc7qqRy5SGMWL+"
    "PJmS837MyECT0Gu+EnqcRw6xnAPaAmxecrw==";

// A sandbox root per test, one node of lab3, the fake runner.
class Steps : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "airstrap-steps-XXXXXX").string();
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        paths.root = tmpl;
        id.site = lab3();
        id.site_secret = crypto::Bytes(32, 0x11);
        be("network-node");
        // CentOS 7 as the kickstart left it: everything already as the site says.
        runner.on("systemctl is-enabled", 1, "disabled\n");
        runner.on("systemctl is-active", 3, "inactive\n");
        runner.on("systemctl is-enabled network", 0,
                  "network.service is not a native service, redirecting to /sbin/chkconfig.\n"
                  "Executing /sbin/chkconfig network --level=5\nenabled\n");
        runner.on("getenforce", 0, "Disabled\n");
        runner.on("yum -q repolist enabled", 0,
                  "repo id                 repo name                                  status\n"
                  "airstrap                airstrap site repository (lab3)             1,482\n");
        runner.on("rpm -q libvirt-daemon-config-network", 1,
                  "package libvirt-daemon-config-network is not installed\n");
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(paths.root, ec);
    }

    void be(const std::string& node) { id.node = node; }
    StepContext ctx() { return StepContext{id, paths, runner, 1ms}; }
    fs::path at(const std::string& absolute) const { return paths.under(absolute); }

    // ssh-keygen as the fake sees it: writes the files it would write.
    void keygen_writes_host_keys() {
        runner.on("ssh-keygen -A", 0, "", [this](const std::vector<std::string>&) {
            put(paths.etc_ssh() / "ssh_host_rsa_key", "private");
            put(paths.etc_ssh() / "ssh_host_rsa_key.pub", rsa + " root@localhost\n");
            put(paths.etc_ssh() / "ssh_host_ecdsa_key", "private");
            put(paths.etc_ssh() / "ssh_host_ecdsa_key.pub", ecdsa + " root@localhost\n");
            put(paths.etc_ssh() / "ssh_host_ed25519_key", "private");
            put(paths.etc_ssh() / "ssh_host_ed25519_key.pub", ed25519 + " root@localhost\n");
        });
    }
    void keygen_writes_root_key(const std::string& pub) {
        runner.on("ssh-keygen -q -t ed25519", 0, "", [pub](const std::vector<std::string>& argv) {
            fs::path f = argv.back();
            put(f, "private");
            put(f.string() + ".pub", pub + "\n");
        });
    }

    node::Paths paths;
    node::Identity id;
    FakeRunner runner;
};

const std::string lab3_hosts_block =
    "# BEGIN airstrap (site lab3)\n"
    "192.168.111.10 controller-node.lab.local controller-node\n"
    "192.168.111.11 network-node.lab.local network-node\n"
    "192.168.111.12 compute-node.lab.local compute-node\n"
    "# END airstrap\n";

const std::string tracking_unsynced =
    "Reference ID    : 00000000 ()\n"
    "Stratum         : 0\n"
    "Ref time (UTC)  : Thu Jan 01 00:00:00 1970\n"
    "System time     : 0.000000000 seconds fast of NTP time\n"
    "Leap status     : Not synchronised\n";
const std::string tracking_synced =
    "Reference ID    : C0A86F0A (192.168.111.10)\n"
    "Stratum         : 11\n"
    "Ref time (UTC)  : Tue Mar 05 10:11:12 2024\n"
    "System time     : 0.000012345 seconds fast of NTP time\n"
    "Last offset     : +0.000001234 seconds\n"
    "Leap status     : Normal\n";
const std::string tracking_local =
    "Reference ID    : 7F7F0101 ()\n"
    "Stratum         : 10\n"
    "System time     : 0.000000000 seconds fast of NTP time\n"
    "Leap status     : Normal\n";

}  // namespace

// ---- identity --------------------------------------------------------------------------------

TEST_F(Steps, IdentityWritesHostnameHostsBlockAndSetsTheHostName) {
    std::string installer = "127.0.0.1   localhost localhost.localdomain\n";
    put(at("/etc/hosts"), installer);
    auto c = ctx();
    EXPECT_EQ(step_identity(c),
              "host name network-node.lab.local, /etc/hosts names the 3 nodes of site lab3");
    EXPECT_EQ(slurp(paths.hostname()), "network-node.lab.local\n");
    EXPECT_EQ(mode_of(paths.hostname()), 0644u);
    EXPECT_EQ(slurp(paths.hosts()), installer + lab3_hosts_block);
    EXPECT_EQ(mode_of(paths.hosts()), 0644u);
    EXPECT_EQ(runner.commands(), std::vector<std::string>{"hostname network-node.lab.local"});

    step_identity(c);
    EXPECT_EQ(slurp(paths.hosts()), installer + lab3_hosts_block);
    EXPECT_EQ(slurp(paths.hostname()), "network-node.lab.local\n");
}

TEST_F(Steps, IdentityNamesTheHostsFileWhenItsBlockIsBroken) {
    put(at("/etc/hosts"), "# BEGIN airstrap (site lab3)\n1.2.3.4 x\n");
    auto c = ctx();
    try {
        step_identity(c);
        FAIL() << "expected InputError";
    } catch (const InputError& e) {
        EXPECT_EQ(describe(e).rfind(paths.hosts().string() + ": line 1 opens", 0), 0u) << e.what();
    }
    EXPECT_FALSE(runner.ran("hostname"));
}

// ---- checks ----------------------------------------------------------------------------------

TEST_F(Steps, ChecksOnANodeAsTheKickstartLeftItChangeNothing) {
    auto c = ctx();
    EXPECT_EQ(step_checks(c),
              "firewalld off, NetworkManager off, network service on, SELinux Disabled, "
              "repository airstrap answers");
    EXPECT_EQ(runner.commands(),
              (std::vector<std::string>{
                  "systemctl is-enabled firewalld", "systemctl is-active firewalld",
                  "systemctl is-enabled network", "systemctl is-active network",
                  "systemctl is-enabled NetworkManager", "systemctl is-active NetworkManager",
                  "getenforce", "yum -q repolist enabled"}));
}

TEST_F(Steps, ChecksStopAndDisableRunningFirewalldAndNetworkManager) {
    runner.on("systemctl is-enabled firewalld", 0, "enabled\n");
    runner.on("systemctl is-active firewalld", 0, "active\n");
    runner.on("systemctl is-enabled NetworkManager", 0, "enabled\n");
    runner.on("systemctl is-active NetworkManager", 3, "inactive\n");
    auto c = ctx();
    EXPECT_EQ(step_checks(c),
              "firewalld disabled and stopped, NetworkManager disabled and stopped, network "
              "service on, SELinux Disabled, repository airstrap answers");
    EXPECT_TRUE(runner.ran("systemctl disable --now firewalld"));
    EXPECT_TRUE(runner.ran("systemctl disable --now NetworkManager"));

    // Second run: systemd now says they are off.
    runner.on("systemctl is-enabled firewalld", 1, "disabled\n");
    runner.on("systemctl is-active firewalld", 3, "inactive\n");
    runner.on("systemctl is-enabled NetworkManager", 1, "disabled\n");
    runner.calls.clear();
    step_checks(c);
    EXPECT_FALSE(runner.ran("systemctl disable"));
}

TEST_F(Steps, ChecksAcceptAMissingFirewalld) {
    runner.on("systemctl is-enabled firewalld", 1,
              "Failed to get unit file state for firewalld.service: No such file or directory\n");
    runner.on("systemctl is-enabled NetworkManager", 4, "not-found\n");
    auto c = ctx();
    EXPECT_EQ(step_checks(c),
              "firewalld not installed, NetworkManager not installed, network service on, "
              "SELinux Disabled, repository airstrap answers");
    EXPECT_FALSE(runner.ran("systemctl disable"));
    EXPECT_FALSE(runner.ran("systemctl is-active firewalld"));
}

TEST_F(Steps, ChecksEnableTheNetworkServiceBeforeNetworkManagerGoes) {
    runner.on("systemctl is-enabled network", 1, "disabled\n");
    runner.on("systemctl is-enabled NetworkManager", 0, "enabled\n");
    auto c = ctx();
    EXPECT_NE(step_checks(c).find("network service enabled"), std::string::npos);
    auto cmds = runner.commands();
    auto enable = std::find(cmds.begin(), cmds.end(), "systemctl enable network");
    auto disable = std::find(cmds.begin(), cmds.end(), "systemctl disable --now NetworkManager");
    ASSERT_NE(enable, cmds.end());
    ASSERT_NE(disable, cmds.end());
    EXPECT_LT(enable, disable);
}

TEST_F(Steps, ChecksKeepNetworkManagerWhenThereIsNoNetworkService) {
    runner.on("systemctl is-enabled network", 1,
              "Failed to get unit file state for network.service: No such file or directory\n");
    runner.on("systemctl is-enabled NetworkManager", 0, "enabled\n");
    auto c = ctx();
    try {
        step_checks(c);
        FAIL() << "expected Error";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(),
                     "site.yaml turns NetworkManager off, but node 'network-node' has no network "
                     "service (network-scripts) to bring its network up after a reboot: install "
                     "network-scripts from the site repository, or set "
                     "security.network_manager: true and rebuild the media");
    }
    EXPECT_FALSE(runner.ran("systemctl disable --now NetworkManager"));
}

TEST_F(Steps, ChecksLeaveServicesAloneWhenTheSiteWantsThem) {
    id.site.security.firewalld = true;
    id.site.security.network_manager = true;
    id.site.site.distro = "el9";
    runner.on("dnf -q repolist --enabled", 0, "repo id     repo name\nairstrap    airstrap\n");
    auto c = ctx();
    EXPECT_EQ(step_checks(c), "SELinux Disabled, repository airstrap answers");
    EXPECT_EQ(runner.commands(),
              (std::vector<std::string>{"getenforce", "dnf -q repolist --enabled"}));
}

TEST_F(Steps, ChecksTurnEnforcingSelinuxOffAndRewriteItsConfig) {
    runner.on("getenforce", 0, "Enforcing\n");
    std::string config =
        "# This file controls the state of SELinux on the system.\n"
        "SELINUX=enforcing\n"
        "SELINUXTYPE=targeted\n";
    put(at("/etc/selinux/config"), config);
    auto c = ctx();
    EXPECT_NE(step_checks(c).find("SELinux permissive now (was Enforcing), SELINUX=disabled in "
                                  "/etc/selinux/config"),
              std::string::npos);
    EXPECT_TRUE(runner.ran("setenforce 0"));
    EXPECT_EQ(slurp(at("/etc/selinux/config")),
              "# This file controls the state of SELinux on the system.\n"
              "SELINUX=disabled\n"
              "SELINUXTYPE=targeted\n");
    EXPECT_EQ(mode_of(at("/etc/selinux/config")), 0644u);

    runner.on("getenforce", 0, "Permissive\n");
    runner.calls.clear();
    EXPECT_NE(step_checks(c).find("SELinux Permissive, repository"), std::string::npos);
    EXPECT_FALSE(runner.ran("setenforce"));
}

TEST_F(Steps, ChecksFailWhenTheRepositoryIsNotListed) {
    runner.on("yum -q repolist enabled", 0,
              "repo id   repo name   status\nbase/7/x86_64  base  10\n");
    auto c = ctx();
    try {
        step_checks(c);
        FAIL() << "expected Error";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(),
                     "the local repository does not answer: 'yum -q repolist enabled' does not "
                     "list the repository 'airstrap'; /etc/yum.repos.d/airstrap.repo (written by "
                     "the kickstart) is missing or disabled");
    }
}

TEST_F(Steps, ChecksFailWhenTheRepositoryDoesNotAnswer) {
    id.site.site.distro = "el8";
    runner.on("systemctl is-enabled network", 0, "enabled\n");
    runner.on("dnf -q repolist --enabled", 1,
              "Error: Failed to download metadata for repo 'airstrap': Cannot download "
              "repomd.xml\n");
    auto c = ctx();
    try {
        step_checks(c);
        FAIL() << "expected Error";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(),
                     "the local repository does not answer: 'dnf -q repolist --enabled' failed "
                     "(exit 1): Error: Failed to download metadata for repo 'airstrap': Cannot "
                     "download repomd.xml; check /etc/yum.repos.d/airstrap.repo and the folder "
                     "its baseurl names");
    }
}

TEST_F(Steps, ChecksFindTheRepositoryBehindYumDecorations) {
    runner.on("yum -q repolist enabled", 0, "!airstrap/7/x86_64   airstrap site   1,482\n");
    auto c = ctx();
    EXPECT_NO_THROW(step_checks(c));
}

// ---- host keys -------------------------------------------------------------------------------

TEST_F(Steps, HostKeysAreGeneratedWhenAnyIsMissing) {
    keygen_writes_host_keys();
    put(paths.etc_ssh() / "ssh_host_ed25519_key", "private");  // .pub missing
    auto c = ctx();
    EXPECT_EQ(step_host_keys(c),
              "host keys ecdsa-sha2-nistp256, ssh-ed25519, ssh-rsa (generated rsa, ecdsa, "
              "ed25519)");
    EXPECT_EQ(runner.commands(),
              std::vector<std::string>{"ssh-keygen -A -f " + paths.root.string()});

    runner.calls.clear();
    EXPECT_EQ(step_host_keys(c), "host keys ecdsa-sha2-nistp256, ssh-ed25519, ssh-rsa");
    EXPECT_TRUE(runner.calls.empty());
}

TEST_F(Steps, HostKeysFailWhenSshKeygenMakesNone) {
    auto c = ctx();
    try {
        step_host_keys(c);
        FAIL() << "expected Error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "ssh-keygen -A made no rsa, ecdsa, ed25519 host key in " +
                      paths.etc_ssh().string() +
                      " (is the folder writable? does sshd's crypto policy forbid the type?)");
    }
}

TEST_F(Steps, ReadHostKeysNormalisesAndSorts) {
    put(paths.etc_ssh() / "ssh_host_rsa_key.pub", rsa + " root@localhost\n");
    put(paths.etc_ssh() / "ssh_host_ed25519_key.pub", ed25519 + "\n");
    put(paths.etc_ssh() / "ssh_host_ed25519_key", "private, never read");
    put(paths.etc_ssh() / "sshd_config", "PermitRootLogin yes\n");
    EXPECT_EQ(read_host_keys(paths), (std::vector<std::string>{ed25519, rsa}));

    put(paths.etc_ssh() / "ssh_host_ecdsa_key.pub", "garbage\n");
    try {
        read_host_keys(paths);
        FAIL() << "expected InputError";
    } catch (const InputError& e) {
        EXPECT_EQ(describe(e),
                  (paths.etc_ssh() / "ssh_host_ecdsa_key.pub").string() +
                      ": not an SSH public key (expected 'type base64 [comment]'): 'garbage'");
    }
}

TEST_F(Steps, ReadHostKeysOfANodeWithoutSshIsEmpty) {
    EXPECT_TRUE(read_host_keys(paths).empty());
}

// ---- root key --------------------------------------------------------------------------------

TEST_F(Steps, RootKeyIsGeneratedAndAuthorized) {
    be("controller-node");
    keygen_writes_root_key(ed25519 + " root@controller-node.lab.local");
    std::string operators = "# operators\n" + ecdsa + " alice@laptop\n";
    put(paths.authorized_keys(), operators);
    auto c = ctx();
    EXPECT_EQ(step_root_key(c), "root key ssh-ed25519 generated, authorized");
    EXPECT_EQ(runner.commands(),
              std::vector<std::string>{
                  "ssh-keygen -q -t ed25519 -N '' -C root@controller-node.lab.local -f " +
                  paths.root_key().string()});
    EXPECT_EQ(runner.calls[0][5], "");  // -N "" is an empty argument, not a missing one
    EXPECT_EQ(mode_of(paths.root_ssh()), 0700u);
    EXPECT_EQ(slurp(paths.authorized_keys()),
              operators + ed25519 + " root@controller-node.lab.local\n");
    EXPECT_EQ(mode_of(paths.authorized_keys()), 0600u);
    EXPECT_EQ(read_root_public_key(paths), ed25519 + " root@controller-node.lab.local");

    runner.calls.clear();
    EXPECT_EQ(step_root_key(c), "root key ssh-ed25519 present, authorized");
    EXPECT_TRUE(runner.calls.empty());
    EXPECT_EQ(slurp(paths.authorized_keys()),
              operators + ed25519 + " root@controller-node.lab.local\n");
}

TEST_F(Steps, RootKeyRestoresAMissingPublicHalf) {
    be("controller-node");
    put(paths.root_key(), "private");
    runner.on("ssh-keygen -y -f", 0, ed25519 + "\n");
    auto c = ctx();
    EXPECT_EQ(step_root_key(c), "root key ssh-ed25519 present, public key restored, authorized");
    EXPECT_EQ(slurp(paths.root_key().string() + ".pub"),
              ed25519 + " root@controller-node.lab.local\n");
}

TEST_F(Steps, RootKeyFailsWhenSshKeygenWritesNothing) {
    be("controller-node");
    auto c = ctx();
    EXPECT_THROW(step_root_key(c), Error);
}

TEST_F(Steps, RootKeyRelabelsUnderSelinux) {
    be("controller-node");
    id.site.security.selinux = "enforcing";
    keygen_writes_root_key(ed25519 + " root@controller-node.lab.local");
    auto c = ctx();
    step_root_key(c);
    EXPECT_EQ(runner.commands().back(), "restorecon -R " + paths.root_ssh().string());
}

TEST_F(Steps, ReadRootPublicKeyIsEmptyWithoutAKey) {
    EXPECT_EQ(read_root_public_key(paths), "");
}

// ---- compute ---------------------------------------------------------------------------------

TEST_F(Steps, ComputeTurnsNestedVirtualizationOnAndRemovesTheDefaultNetwork) {
    be("compute-node");
    fs::path nested = at("/sys/module/kvm_intel/parameters/nested");
    put(nested, "N\n");
    runner.on("modprobe kvm_intel", 0, "",
              [&](const std::vector<std::string>&) { put(nested, "Y\n"); });
    runner.on("rpm -q libvirt-daemon-config-network", 0, "libvirt-daemon-config-network-4.5.0\n");
    auto c = ctx();
    EXPECT_EQ(step_compute(c),
              "nested virtualization on (kvm_intel reloaded), libvirt-daemon-config-network "
              "removed");
    EXPECT_EQ(runner.commands(),
              (std::vector<std::string>{"modprobe -r kvm_intel", "modprobe kvm_intel",
                                        "rpm -q libvirt-daemon-config-network",
                                        "rpm -e --nodeps libvirt-daemon-config-network"}));
    fs::path conf = at("/etc/modprobe.d/airstrap-kvm-nested.conf");
    EXPECT_EQ(slurp(conf), "options kvm_intel nested=1\noptions kvm_amd nested=1\n");
    EXPECT_EQ(mode_of(conf), 0644u);

    runner.on("rpm -q libvirt-daemon-config-network", 1, "package … is not installed\n");
    runner.calls.clear();
    EXPECT_EQ(step_compute(c),
              "nested virtualization on (kvm_intel), libvirt-daemon-config-network absent");
    EXPECT_EQ(runner.commands(), std::vector<std::string>{"rpm -q libvirt-daemon-config-network"});
    EXPECT_EQ(slurp(conf), "options kvm_intel nested=1\noptions kvm_amd nested=1\n");
}

TEST_F(Steps, ComputeAsksForARebootWhenKvmIsInUse) {
    be("compute-node");
    put(at("/sys/module/kvm_amd/parameters/nested"), "0\n");
    runner.on("modprobe -r kvm_amd", 1, "modprobe: FATAL: Module kvm_amd is in use.\n");
    auto c = ctx();
    EXPECT_EQ(step_compute(c),
              "reboot to enable nested virtualization (kvm_amd could not be reloaded: modprobe: "
              "FATAL: Module kvm_amd is in use.), libvirt-daemon-config-network absent");
    EXPECT_FALSE(runner.ran("modprobe kvm_amd"));
}

TEST_F(Steps, ComputeReadsSysfsSizedParameters) {
    be("compute-node");
    // sysfs reports 4096 bytes for every attribute; the test file has the same size.
    put(at("/sys/module/kvm_intel/parameters/nested"), "Y\n" + std::string(4094, ' '));
    auto c = ctx();
    EXPECT_EQ(step_compute(c),
              "nested virtualization on (kvm_intel), libvirt-daemon-config-network absent");
}

TEST_F(Steps, ComputeSaysWhenReloadingDidNotHelp) {
    be("compute-node");
    put(at("/sys/module/kvm_intel/parameters/nested"), "N\n");
    auto c = ctx();
    EXPECT_EQ(step_compute(c),
              "reboot to enable nested virtualization (kvm_intel reloaded, nested still off), "
              "libvirt-daemon-config-network absent");
}

TEST_F(Steps, ComputeOnACpuWithoutVmxSaysSoPlainly) {
    be("compute-node");
    put(at("/proc/cpuinfo"),
        "processor\t: 0\nflags\t\t: fpu vme de pse tsc msr pae hypervisor lahf_lm\n\n"
        "processor\t: 1\nflags\t\t: fpu vme de pse tsc msr pae hypervisor lahf_lm\n");
    auto c = ctx();
    std::string detail = step_compute(c);
    EXPECT_TRUE(
        detail.starts_with("nested virtualization not possible: this CPU has no VMX or "
                           "SVM flag"))
        << detail;
    EXPECT_NE(detail.find("virt_type=qemu"), std::string::npos) << detail;
    EXPECT_FALSE(runner.ran("modprobe -r kvm_intel"));
    // Not asked for nested virtualization: still said, since nova cannot use KVM there.
    id.site.nodes[2].nested_virtualization = false;
    auto c2 = ctx();
    detail = step_compute(c2);
    EXPECT_TRUE(detail.starts_with("this CPU has no VMX or SVM flag")) << detail;
    EXPECT_TRUE(detail.ends_with(", libvirt-daemon-config-network absent")) << detail;
}

TEST_F(Steps, ComputeOnACpuWithVmxGoesOnToTheModule) {
    be("compute-node");
    put(at("/proc/cpuinfo"), "flags\t\t: fpu vme vmx ept\n");
    put(at("/sys/module/kvm_intel/parameters/nested"), "Y\n");
    auto c = ctx();
    EXPECT_EQ(step_compute(c),
              "nested virtualization on (kvm_intel), libvirt-daemon-config-network absent");
}

TEST_F(Steps, ComputeWithoutNestedVirtualizationWritesNoModprobeFile) {
    be("compute-node");
    id.site.nodes[2].nested_virtualization = false;
    auto c = ctx();
    EXPECT_EQ(step_compute(c), "libvirt-daemon-config-network absent");
    EXPECT_FALSE(fs::exists(at("/etc/modprobe.d/airstrap-kvm-nested.conf")));
}

TEST_F(Steps, ComputeSaysWhenNoKvmModuleIsLoaded) {
    be("compute-node");
    auto c = ctx();
    EXPECT_NE(step_compute(c).find("no kvm module is loaded"), std::string::npos);
}

// ---- external NIC ----------------------------------------------------------------------------

TEST_F(Steps, ExternalNicGetsAnIfcfgWithoutAddressAndComesUp) {
    fs::path ifcfg = at("/etc/sysconfig/network-scripts/ifcfg-ens34");
    put(ifcfg, "TYPE=Ethernet\nBOOTPROTO=none\nIPADDR=192.168.222.11\nDEVICE=ens34\nONBOOT=no\n");
    runner.on("ip -o link show dev ens34", 0,
              "3: ens34: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP "
              "mode DEFAULT qlen 1000\\    link/ether 00:0c:29:2c:6f:79 brd ff:ff:ff:ff:ff:ff\n");
    auto c = ctx();
    EXPECT_EQ(step_external_nic(c), "ens34 up (state UP), ifcfg-ens34 without address");
    EXPECT_EQ(slurp(ifcfg),
              "# managed by airstrap-firstboot (site lab3): Neutron's external bridge takes this "
              "device over, so it has no address of its own\n"
              "DEVICE=ens34\nNAME=ens34\nTYPE=Ethernet\nONBOOT=yes\nBOOTPROTO=none\n"
              "NM_CONTROLLED=no\n");
    EXPECT_EQ(mode_of(ifcfg), 0644u);
    EXPECT_EQ(runner.commands(),
              (std::vector<std::string>{"ip link set dev ens34 up", "ip -o link show dev ens34"}));
    std::string first = slurp(ifcfg);
    step_external_nic(c);
    EXPECT_EQ(slurp(ifcfg), first);
}

TEST_F(Steps, ExternalNicLeavesPackstacksOvsPortAlone) {
    fs::path ifcfg = at("/etc/sysconfig/network-scripts/ifcfg-ens34");
    std::string ovs = "DEVICE=ens34\nDEVICETYPE=ovs\nTYPE=OVSPort\nOVS_BRIDGE=br-ex\nONBOOT=yes\n";
    put(ifcfg, ovs);
    auto c = ctx();
    EXPECT_EQ(step_external_nic(c),
              "ens34 up, ifcfg-ens34 already an OVS port (left as Packstack wrote it)");
    EXPECT_EQ(slurp(ifcfg), ovs);
}

TEST_F(Steps, ExternalNicOnEl9WritesNoIfcfg) {
    id.site.site.distro = "el9";
    id.site.security.network_manager = true;
    auto c = ctx();
    EXPECT_EQ(step_external_nic(c), "ens34 up");
    EXPECT_FALSE(fs::exists(at("/etc/sysconfig/network-scripts")));
    EXPECT_EQ(runner.commands(),
              (std::vector<std::string>{"ip link set dev ens34 up", "ip -o link show dev ens34"}));
}

TEST_F(Steps, ExternalNicThatIsNotThereFails) {
    runner.on("ip link set dev ens34 up", 1, "Cannot find device \"ens34\"\n");
    auto c = ctx();
    try {
        step_external_nic(c);
        FAIL() << "expected Error";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(),
                     "cannot bring up the external NIC ens34: Cannot find device \"ens34\" (check "
                     "the name of node 'network-node''s external interface in site.yaml against "
                     "'ip link' on the node)");
    }
}

TEST_F(Steps, ExternalNicOnANodeWithoutOne) {
    be("compute-node");
    auto c = ctx();
    EXPECT_EQ(step_external_nic(c), "no external NIC on node compute-node");
    EXPECT_TRUE(runner.calls.empty());
}

// ---- chrony ----------------------------------------------------------------------------------

TEST_F(Steps, ChronyOnTheControllerServesTheManagementNetwork) {
    be("controller-node");
    auto c = ctx();
    EXPECT_EQ(step_chrony(c), "chrony.conf written (serves 192.168.111.0/24), chronyd restarted");
    EXPECT_EQ(slurp(paths.chrony_conf()),
              "# managed by airstrap-firstboot (site lab3): rewritten on every run; change "
              "site.yaml (time:) instead\n"
              "# Serve the site's clock even with no upstream reachable.\n"
              "local stratum 10\n"
              "allow 192.168.111.0/24\n"
              "driftfile /var/lib/chrony/drift\n"
              "makestep 1.0 3\n"
              "rtcsync\n"
              "logdir /var/log/chrony\n");
    EXPECT_EQ(mode_of(paths.chrony_conf()), 0644u);
    EXPECT_EQ(runner.commands(),
              (std::vector<std::string>{"systemctl enable chronyd", "systemctl restart chronyd"}));
}

TEST_F(Steps, ChronyOnANodeFollowsTheControllerAndRestartsOnlyForAChange) {
    put(paths.chrony_conf(), "pool 2.centos.pool.ntp.org iburst\n");  // the package's file
    auto c = ctx();
    EXPECT_EQ(step_chrony(c), "chrony.conf written (follows 192.168.111.10), chronyd restarted");
    EXPECT_NE(slurp(paths.chrony_conf()).find("\nserver 192.168.111.10 iburst\n"),
              std::string::npos);
    EXPECT_EQ(slurp(paths.chrony_conf()).find("pool"), std::string::npos);

    runner.on("systemctl is-active chronyd", 0, "active\n");
    runner.calls.clear();
    EXPECT_EQ(step_chrony(c), "chrony.conf unchanged (follows 192.168.111.10), chronyd running");
    EXPECT_EQ(runner.commands(), (std::vector<std::string>{"systemctl enable chronyd",
                                                           "systemctl is-active chronyd"}));
}

TEST_F(Steps, ChronyWaitOnANodeWaitsForTheController) {
    runner.on("chronyc -n tracking",
              {{1, "506 Cannot talk to daemon\n"}, {0, tracking_unsynced}, {0, tracking_synced}});
    auto c = ctx();
    EXPECT_EQ(step_chrony_wait(c), "synchronised to 192.168.111.10, offset +0.000012 s");
    EXPECT_EQ(runner.calls.size(), 3u);
}

TEST_F(Steps, ChronyWaitOnANodeGivesUpAfterTheSyncTimeout) {
    id.site.firstboot.sync_timeout = 1;
    runner.on("chronyc -n tracking", 0, tracking_unsynced);
    auto c = ctx();
    auto start = std::chrono::steady_clock::now();
    try {
        step_chrony_wait(c);
        FAIL() << "expected Error";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(),
                     "chrony did not synchronise to controller-node (192.168.111.10) within 1 s: "
                     "Leap status : Not synchronised; check that chronyd runs on the controller "
                     "and that UDP port 123 is open between the nodes");
    }
    auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_GE(waited, 1s);
    EXPECT_LT(waited, 5s);
}

TEST_F(Steps, ChronyWaitOnANodeDoesNotTakeTheLocalClockForSync) {
    id.site.firstboot.sync_timeout = 0;  // one look, then the verdict
    runner.on("chronyc -n tracking", 0, tracking_local);
    auto c = ctx();
    EXPECT_THROW(step_chrony_wait(c), Error);
}

TEST_F(Steps, ChronyWaitOnAControllerWithoutUpstreamServesItsClock) {
    be("controller-node");
    runner.on("chronyc -n tracking", {{1, "506 Cannot talk to daemon\n"}, {0, tracking_unsynced}});
    auto c = ctx();
    EXPECT_EQ(step_chrony_wait(c), "serving local clock at stratum 10");
    EXPECT_EQ(runner.calls.size(), 2u);
}

TEST_F(Steps, ChronyWaitOnAControllerWhoseUpstreamIsAwayDoesNotFail) {
    be("controller-node");
    id.site.firstboot.sync_timeout = 1;
    id.site.time.upstream = {"10.0.0.123"};
    runner.on("chronyc -n tracking", 0, tracking_local);
    auto c = ctx();
    EXPECT_EQ(step_chrony_wait(c),
              "upstream not reachable, serving local clock at stratum 10 (10.0.0.123 did not "
              "answer within 1 s)");
}

TEST_F(Steps, ChronyWaitOnAControllerWithAnUpstreamReportsIt) {
    be("controller-node");
    id.site.time.upstream = {"10.0.0.123"};
    runner.on("chronyc -n tracking", 0,
              "Reference ID    : 0A00007B (10.0.0.123)\n"
              "System time     : 0.250000000 seconds slow of NTP time\n"
              "Leap status     : Normal\n");
    auto c = ctx();
    EXPECT_EQ(step_chrony_wait(c), "synchronised to 10.0.0.123, offset -0.250000 s");
}

TEST_F(Steps, ChronyWaitFailsWhenTheControllersChronydNeverAnswers) {
    be("controller-node");
    id.site.firstboot.sync_timeout = 1;
    runner.on("chronyc -n tracking", 1, "506 Cannot talk to daemon\n");
    auto c = ctx();
    try {
        step_chrony_wait(c);
        FAIL() << "expected Error";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(),
                     "chronyd on the controller did not answer 'chronyc tracking' within 1 s: 506 "
                     "Cannot talk to daemon; check 'systemctl status chronyd'");
    }
}

// ---- keys from the enrolment -----------------------------------------------------------------

TEST_F(Steps, InstallAuthorizedKeyCreatesTheFolderAndIsIdempotent) {
    install_authorized_key(paths, ed25519 + " root@controller-node.lab.local");
    EXPECT_EQ(mode_of(paths.root_ssh()), 0700u);
    EXPECT_EQ(mode_of(paths.authorized_keys()), 0600u);
    std::string once = slurp(paths.authorized_keys());
    EXPECT_EQ(once, ed25519 + " root@controller-node.lab.local\n");
    install_authorized_key(paths, ed25519 + " another-comment");
    EXPECT_EQ(slurp(paths.authorized_keys()), once);
    EXPECT_THROW(install_authorized_key(paths, "rm -rf /"), InputError);
}

TEST_F(Steps, ControllerRootKeyIsRememberedAndOnlyASignedRotationReplacesIt) {
    put(paths.authorized_keys(), ecdsa + " alice@laptop\n");
    EXPECT_EQ(install_controller_root_key(paths, ed25519 + " root@controller-node", {}),
              "installed");
    EXPECT_EQ(slurp(paths.authorized_keys()), ecdsa + " alice@laptop\n" + ed25519 + "\n");
    EXPECT_EQ(slurp(paths.controller_root_key()), ed25519 + "\n");
    EXPECT_EQ(mode_of(paths.controller_root_key()), 0600u);
    EXPECT_EQ(install_controller_root_key(paths, ed25519, {}), "unchanged");

    // Another key, not signed as replacing the installed one: refused, nothing changes.
    std::string before = slurp(paths.authorized_keys());
    for (const auto& replaces : std::vector<std::vector<std::string>>{{}, {ecdsa}, {"junk"}}) {
        try {
            install_controller_root_key(paths, ed25519_other, replaces);
            ADD_FAILURE() << "a second root key was accepted";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("rotation refused"), std::string::npos)
                << e.what();
        }
        EXPECT_EQ(slurp(paths.authorized_keys()), before);
        EXPECT_EQ(slurp(paths.controller_root_key()), ed25519 + "\n");
    }
    // Signed as its replacement: the old line swapped for the new one, never both.
    EXPECT_NE(install_controller_root_key(paths, ed25519_other + " root@controller-node",
                                          {ecdsa, ed25519 + " old"})
                  .find("rotated"),
              std::string::npos);
    EXPECT_EQ(slurp(paths.authorized_keys()), ecdsa + " alice@laptop\n" + ed25519_other + "\n");
    EXPECT_EQ(slurp(paths.controller_root_key()), ed25519_other + "\n");
    EXPECT_THROW(install_controller_root_key(paths, "rm -rf /", {}), InputError);
}

TEST_F(Steps, InstallAuthorizedKeyTightensALooseMode) {
    put(paths.authorized_keys(), ed25519 + "\n");
    fs::permissions(paths.authorized_keys(), fs::perms(0666));
    install_authorized_key(paths, ed25519);
    EXPECT_EQ(mode_of(paths.authorized_keys()), 0600u);
    EXPECT_EQ(slurp(paths.authorized_keys()), ed25519 + "\n");
}

TEST_F(Steps, WriteKnownHostsKeepsTheOperatorsLines) {
    std::string operators = "gitserver.corp " + ecdsa + "\n";
    put(paths.known_hosts(), operators);
    std::vector<KnownHost> hosts = {
        {{"compute-node", "compute-node.lab.local", "192.168.111.12"}, {ed25519_other, rsa}}};
    write_known_hosts(paths, hosts);
    std::string expected = operators +
                           "# BEGIN airstrap known hosts\n"
                           "compute-node,compute-node.lab.local,192.168.111.12 " +
                           ed25519_other +
                           "\n"
                           "compute-node,compute-node.lab.local,192.168.111.12 " +
                           rsa + "\n# END airstrap\n";
    EXPECT_EQ(slurp(paths.known_hosts()), expected);
    EXPECT_EQ(mode_of(paths.known_hosts()), 0644u);
    write_known_hosts(paths, hosts);
    EXPECT_EQ(slurp(paths.known_hosts()), expected);
}

TEST_F(Steps, WriteKnownHostsOnAFreshNode) {
    write_known_hosts(paths, {{{"controller-node", "192.168.111.10"}, {ed25519}}});
    EXPECT_EQ(slurp(paths.known_hosts()),
              "# BEGIN airstrap known hosts\ncontroller-node,"
              "192.168.111.10 " +
                  ed25519 + "\n# END airstrap\n");
}

// ---- ssh check -------------------------------------------------------------------------------

TEST_F(Steps, VerifySshRunsStrictBatchSshToEveryNode) {
    be("controller-node");
    node::Paths real;  // root "/": the exact command a real controller runs (no file is touched)
    StepContext c{id, real, runner, 1ms};
    std::vector<const node::Node*> nodes = {id.site.node("network-node"),
                                            id.site.node("compute-node")};
    EXPECT_EQ(verify_ssh(c, nodes), "ssh as root works to 2 nodes: network-node, compute-node");
    auto commands = runner.commands();  // in parallel: any order
    std::sort(commands.begin(), commands.end());
    EXPECT_EQ(commands,
              (std::vector<std::string>{
                  "ssh -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=10 "
                  "root@192.168.111.11 true",
                  "ssh -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=10 "
                  "root@192.168.111.12 true"}));
}

TEST_F(Steps, VerifySshInASandboxUsesTheSandboxesKeyAndKnownHosts) {
    be("controller-node");
    auto c = ctx();
    verify_ssh(c, {id.site.node("compute-node")});
    EXPECT_EQ(runner.commands(),
              std::vector<std::string>{
                  "ssh -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=10 -o "
                  "GlobalKnownHostsFile=" +
                  paths.known_hosts().string() + " -o UserKnownHostsFile=/dev/null -i " +
                  paths.root_key().string() + " root@192.168.111.12 true"});
}

TEST_F(Steps, VerifySshNamesEveryNodeThatFailed) {
    be("controller-node");
    node::Paths real;
    StepContext c{id, real, runner, 1ms};
    runner.on(
        "ssh -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=10 "
        "root@192.168.111.11",
        255,
        "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
        "Host key verification failed.\n");
    runner.on(
        "ssh -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=10 "
        "root@192.168.111.12",
        255, "ssh: connect to host 192.168.111.12 port 22: Connection timed out\n");
    std::vector<const node::Node*> nodes = {id.site.node("controller-node"),
                                            id.site.node("network-node"),
                                            id.site.node("compute-node")};
    try {
        verify_ssh(c, nodes);
        FAIL() << "expected Error";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(),
                     "ssh as root with strict host key checking failed to 2 of 3 nodes: "
                     "network-node (192.168.111.11): Host key verification failed.; compute-node "
                     "(192.168.111.12): ssh: connect to host 192.168.111.12 port 22: Connection "
                     "timed out (check sshd on those nodes and their keys in "
                     "/etc/ssh/ssh_known_hosts and their authorized_keys)");
    }
    EXPECT_EQ(runner.calls.size(), 3u);
}
