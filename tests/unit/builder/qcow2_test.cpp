// The qcow2 builder's decisions that need no appliance: profiles, the package request,
// /etc/shadow, fstab and profile commands. The images themselves: tests/integration/qcow2.sh.
#include "builder/qcow2.hpp"

#include <gtest/gtest.h>

#include "builder/profile.hpp"
#include "common/error.hpp"
#include "site/site_file.hpp"
#include "tests/unit/test_support.hpp"

using namespace airstrap;
using testutil::message_of;

namespace {

bool has(const std::vector<std::string>& list, const std::string& item) {
    return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace

TEST(Profile, TheBuiltInProfilesLoadAndDiffer) {
    EXPECT_EQ(builder::builtin_profiles(), (std::vector<std::string>{"el7", "el8", "el9"}));
    auto el7 = builder::load_profile("el7");
    auto el9 = builder::load_profile("el9");
    EXPECT_EQ(el7.network, builder::Profile::Network::ifcfg);
    EXPECT_EQ(el9.network, builder::Profile::Network::keyfile);
    // Kernel 3.10 cannot mount XFS with mkfs.xfs 6.x's default features.
    EXPECT_NE(el7.mkfs_options.at("xfs").find("bigtime=0"), std::string::npos);
    EXPECT_NE(el7.mkfs_options.at("xfs").find("sparse=0"), std::string::npos);
    EXPECT_EQ(el9.mkfs_options.at("xfs"), "");
    EXPECT_TRUE(has(el7.packages, "yum"));
    EXPECT_TRUE(has(el9.packages, "dnf"));
    EXPECT_EQ(el7.initramfs.front(), "dracut");
    EXPECT_EQ(el7.bootloader.front(),
              (std::vector<std::string>{"grub2-install", "--target=i386-pc", "{disk}"}));
    EXPECT_EQ(el7.bootstrap, (std::vector<std::string>{"rpm"}));
    EXPECT_EQ(el7.root_fs, "xfs");
}

TEST(Profile, AnUnknownNameListsTheBuiltInOnes) {
    EXPECT_EQ(message_of([] { builder::load_profile("centos7"); }),
              "no distro profile 'centos7': built in are el7, el8, el9, or give a profile "
              "file's path");
}

TEST(Profile, AnUnreadableFileKeepsItsCauseInTheChain) {
    try {
        builder::load_profile("/nonexistent/p.yaml");
        ADD_FAILURE() << "a missing profile file was accepted";
    } catch (const std::exception& e) {
        EXPECT_EQ(std::string(e.what()), "cannot read the profile /nonexistent/p.yaml");
        EXPECT_EQ(describe(e),
                  "cannot read the profile /nonexistent/p.yaml: /nonexistent/p.yaml: no such file");
        EXPECT_EQ(exit_code_of(e), ExitCode::bad_input);
    }
}

TEST(Profile, BadFilesSayWhereAndWhat) {
    const std::string base = "name: x\npackages: [a]\ninitramfs: [mk]\nbootloader: [[b]]\n";
    EXPECT_EQ(message_of([&] { builder::parse_profile(base + "netwrk: ifcfg\n", "p.yaml"); }),
              "p.yaml:5:1: unknown profile key 'netwrk'; did you mean 'network'?");
    EXPECT_EQ(message_of([&] { builder::parse_profile(base + "network: wicked\n", "p.yaml"); }),
              "p.yaml:5:10: 'network' must be ifcfg (network-scripts) or keyfile (NetworkManager)");
    EXPECT_EQ(message_of([&] {
                  builder::parse_profile(base + "mkfs_options: {xfs: \"-m x; rm -rf /\"}\n",
                                         "p.yaml");
              }),
              "p.yaml:5:21: mkfs options may hold letters, digits, ' -=,_.' only");
    EXPECT_EQ(message_of(
                  [&] { builder::parse_profile(base + "filesystems: {root: btrfs}\n", "p.yaml"); }),
              "p.yaml:5:21: file system 'btrfs' is not one of xfs, ext4");
    EXPECT_EQ(message_of([] { builder::parse_profile("name: x\npackages: [a]\n", "p.yaml"); }),
              "p.yaml: the profile has no 'initramfs' (see builder/profiles/el7.yaml)");
    EXPECT_EQ(message_of([] { builder::parse_profile("name: [x\n", "p.yaml"); }).substr(0, 12),
              "p.yaml:2:1: ");
    auto p = builder::parse_profile(base, "p.yaml");
    EXPECT_EQ(p.bootstrap, (std::vector<std::string>{"rpm"}));  // the default
}

TEST(Qcow2, ThePackagesAreTheProfilesBaseThenTheRolesAndTheSites) {
    auto f = testutil::lab3_file(
        testutil::replaced(testutil::lab3_text(), "packages:\n  compute:\n",
                           "packages:\n  common:\n    add: [vim-enhanced]\n  compute:\n"));
    auto profile = builder::parse_profile(
        "name: t\npackages: [base-a, base-b]\ninitramfs: [mk]\nbootloader: [[b]]\n", "t");
    auto controller = builder::image_packages(f->site(), site::Role::controller, profile);
    EXPECT_EQ(
        controller.install,
        (std::vector<std::string>{"base-a", "base-b", "chrony", "openssh-server",
                                  "airstrap-firstboot", "openstack-packstack", "vim-enhanced"}));
    EXPECT_TRUE(controller.exclude.empty());
    auto compute = builder::image_packages(f->site(), site::Role::compute, profile);
    EXPECT_FALSE(has(compute.install, "openstack-packstack"));
    EXPECT_FALSE(has(compute.install, "@^minimal"));  // the kickstart's environment: replaced
    EXPECT_FALSE(has(compute.install, "@core"));
    EXPECT_EQ(compute.exclude, (std::vector<std::string>{"libvirt-daemon-config-network"}));
    // EL7's profile brings @core back itself.
    auto el7 =
        builder::image_packages(f->site(), site::Role::compute, builder::load_profile("el7"));
    EXPECT_EQ(el7.install.front(), "@core");
}

TEST(Qcow2, RootsHashReplacesOnlyTheSecondField) {
    std::string shadow = "root:!!:18000:0:99999:7:::\nsshd:!!:18000::::::\n";
    EXPECT_EQ(builder::shadow_with_root_hash(shadow, "$6$salt$hash"),
              "root:$6$salt$hash:18000:0:99999:7:::\nsshd:!!:18000::::::\n");
    EXPECT_EQ(message_of([] { builder::shadow_with_root_hash("bin:*:1::::::\n", "$6$x"); }),
              "the image's /etc/shadow has no root line");
}

TEST(Qcow2, FstabMountsByUuid) {
    EXPECT_EQ(builder::fstab_text("r-1", "xfs", "b-2", "xfs", "E-3"),
              "# Written by airstrap (build qcow2)\n"
              "UUID=r-1 / xfs defaults 0 0\n"
              "UUID=b-2 /boot xfs defaults 0 0\n"
              "UUID=E-3 /boot/efi vfat umask=0077,shortname=winnt 0 2\n");
}

TEST(Qcow2, ProfileCommandsGetTheirValues) {
    std::map<std::string, std::string> v = {{"kver", "3.10.0-1160.el7.x86_64"},
                                            {"disk", "/dev/sdb"}};
    EXPECT_EQ(
        builder::fill_command({"dracut", "-f", "/boot/initramfs-{kver}.img"}, v),
        (std::vector<std::string>{"dracut", "-f", "/boot/initramfs-3.10.0-1160.el7.x86_64.img"}));
    EXPECT_EQ(builder::fill_command({"grub2-install", "{disk}"}, v),
              (std::vector<std::string>{"grub2-install", "/dev/sdb"}));
    EXPECT_EQ(message_of([&] {
                  builder::fill_command({"x", "{kernel}"}, v);
              }),
              "profile command 'x {kernel}' has '{kernel}'; known are {kver}, {disk}, "
              "{root_uuid}, {boot_uuid}");
}

TEST(Qcow2, NoImageWithoutANodeOrWithAStrangerOrABadRepository) {
    auto f = testutil::lab3_file();
    auto secrets = testutil::fixed_secrets();
    SystemCommandRunner runner;
    builder::Qcow2Options o;
    o.output = "/nonexistent/x.qcow2";
    o.repo = "/nonexistent";
    EXPECT_EQ(message_of([&] { builder::build_qcow2(f->site(), secrets, o, runner); }),
              "no node to build an image for");
    o.nodes = {"stranger"};
    EXPECT_EQ(message_of([&] { builder::build_qcow2(f->site(), secrets, o, runner); }),
              "'stranger' is not a node of site lab3 (controller-node, network-node, "
              "compute-node)");
    o.nodes = {"compute-node"};
    EXPECT_EQ(message_of([&] { builder::build_qcow2(f->site(), secrets, o, runner); }),
              "/nonexistent is not a yum repository (no repodata/repomd.xml); give an "
              "'airstrap mirror' output");
    EXPECT_FALSE(std::filesystem::exists("/nonexistent"));
}

TEST(Qcow2, RaidNodesAreBuiltAndNodesWithDataVolumesRefusedBeforeAnythingStarts) {
    auto f = testutil::rack_file();
    ASSERT_TRUE(f->ok()) << f->diag().render();
    auto secrets = testutil::fixed_secrets();
    SystemCommandRunner runner;
    builder::Qcow2Options o;
    o.output = "/nonexistent/x.qcow2";
    o.repo = "/nonexistent";
    // ctl1: Cinder's volume group on its own disk; cmp1: Nova's instances on its own disk.
    for (const std::string node : {"ctl1", "cmp1"}) {
        o.nodes = {node};
        EXPECT_EQ(message_of([&] { builder::build_qcow2(f->site(), secrets, o, runner); }),
                  "node " + node +
                      ": its disks have data volumes (disks.data: Cinder's volume group or "
                      "Nova's instances on their own disk); images of such nodes are not built "
                      "yet: install them with a kickstart")
            << node;
    }
    // net1: RAID1 system disks, no data volume: past the disk checks (to the repository's).
    o.nodes = {"net1"};
    EXPECT_EQ(message_of([&] { builder::build_qcow2(f->site(), secrets, o, runner); }),
              "/nonexistent is not a yum repository (no repodata/repomd.xml); give an "
              "'airstrap mirror' output");
    EXPECT_EQ(builder::qcow2_output_for(o, "net1"), "/nonexistent/x.qcow2");
}

TEST(Qcow2, ServicesAreEnabledLikeAnacondaDoesAndLibvirtsNetworkGoes) {
    auto f = testutil::lab3_file();
    auto s = kickstart::node_setup(f->site(), testutil::fixed_secrets(), "compute-node");
    std::string script = builder::services_script(s);
    EXPECT_NE(script.find("if unit sshd.service; then systemctl enable sshd.service"),
              std::string::npos);
    EXPECT_NE(script.find("if unit airstrap-firstboot.service; then systemctl enable "
                          "airstrap-firstboot.service"),
              std::string::npos);
    EXPECT_NE(script.find("else echo 'disable firewalld.service: not installed, skipped'; fi\n"),
              std::string::npos);
    EXPECT_NE(script.find("if rpm -q libvirt-daemon-config-network >/dev/null 2>&1; then rpm -e "
                          "--nodeps libvirt-daemon-config-network;"),
              std::string::npos);
    EXPECT_EQ(script.rfind("set -e\n", 0), 0u);
}
