// disks.hpp: a node's disks as Anaconda's partitioning commands (ignoredisk, clearpart, part,
// raid, volgroup, logvol, bootloader), as pykickstart documents them.
#include "kickstart/disks.hpp"

#include <gtest/gtest.h>

#include "site/site_file.hpp"
#include "tests/unit/test_support.hpp"

using namespace airstrap;

namespace {

const site::Node& node_of(const site::Site& s, const std::string& name) {
    for (const auto& n : s.nodes) {
        if (n.name == name) return n;
    }
    throw std::runtime_error("no node " + name);
}

const std::string p0 = "/dev/disk/by-path/pci-0000:3b:00.0-sas-phy0-lun-0";
const std::string p1 = "/dev/disk/by-path/pci-0000:3b:00.0-sas-phy1-lun-0";
const std::string p2 = "/dev/disk/by-path/pci-0000:3b:00.0-sas-phy2-lun-0";

}  // namespace

TEST(KickstartDisks, OneDiskIsAutopartAsBefore) {
    auto f = testutil::lab3_file();
    auto d = kickstart::kickstart_disks(node_of(f->site(), "compute-node"));
    EXPECT_EQ(d.resolve, "");
    EXPECT_EQ(d.efi_lines, "");
    EXPECT_EQ(d.lines,
              "ignoredisk --only-use=sda\nzerombr\nclearpart --all --initlabel --drives=sda\n"
              "bootloader --location=mbr --boot-drive=sda\nautopart --type=lvm --nohome\n");
}

TEST(KickstartDisks, Raid1WithLvmAndANovaDisk) {
    auto f = testutil::rack_file();
    auto d = kickstart::kickstart_disks(node_of(f->site(), "cmp1"));
    EXPECT_EQ(d.resolve, "");  // every disk by path
    EXPECT_EQ(d.lines,
              "ignoredisk --only-use=" + p0 + "," + p1 + "," + p2 +
                  "\nzerombr\nclearpart --all --initlabel --disklabel=gpt --drives=" + p0 + "," +
                  p1 + "," + p2 + "\nbootloader --location=mbr --boot-drive=" + p0 +
                  " --append=\"rd.retry=30\""
                  "\npart raid.21 --size=1024 --ondisk=" +
                  p0 + "\npart raid.22 --size=1024 --ondisk=" + p1 +
                  "\nraid /boot --level=1 --device=boot --fstype=xfs raid.21 raid.22\n"
                  "part raid.31 --size=1 --grow --ondisk=" +
                  p0 + "\npart raid.32 --size=1 --grow --ondisk=" + p1 +
                  "\nraid pv.01 --level=1 --device=pv_system raid.31 raid.32\n"
                  "volgroup system pv.01\nlogvol swap --vgname=system --name=swap --recommended\n"
                  "logvol / --vgname=system --name=root --fstype=xfs --size=1 --grow\n"
                  "part /var/lib/nova/instances --fstype=xfs --size=1 --grow --ondisk=" +
                  p2 + "\n");
    EXPECT_EQ(d.efi_lines,
              "part raid.11 --size=600 --ondisk=" + p0 +
                  "\npart raid.12 --size=600 --ondisk=" + p1 +
                  "\nraid /boot/efi --level=1 --device=boot_efi --fstype=efi raid.11 raid.12\n");
    EXPECT_EQ(d.bios_lines, "part biosboot --fstype=biosboot --size=1 --ondisk=" + p0 +
                                "\npart biosboot --fstype=biosboot --size=1 --ondisk=" + p1 + "\n");
}

TEST(KickstartDisks, TheCinderDiskFoundBySizeAndModel) {
    auto f = testutil::rack_file();
    auto d = kickstart::kickstart_disks(node_of(f->site(), "ctl1"));
    EXPECT_NE(d.resolve.find("airstrap_disk_matching() {"), std::string::npos);
    // Disks named by path are resolved to kernel names and never matched.
    EXPECT_NE(d.resolve.find("airstrap_taken=\"$airstrap_taken $(basename \"$(readlink -f " + p0 +
                             ")\")\"\n"),
              std::string::npos);
    EXPECT_NE(
        d.resolve.find("airstrap_disk1=$(airstrap_disk_matching 1920 'SAMSUNG MZ7LH1T9*' "
                       "\"cinder-volumes (size 1920G, model SAMSUNG MZ7LH1T9*)\") || exit 1\n"),
        std::string::npos)
        << d.resolve;
    EXPECT_NE(d.lines.find("part pv.cinder --size=1 --grow --ondisk=${airstrap_disk1}\n"
                           "volgroup cinder-volumes pv.cinder\n"),
              std::string::npos);
    EXPECT_NE(d.lines.find("ignoredisk --only-use=" + p0 + "," + p1 + ",${airstrap_disk1}\n"),
              std::string::npos);
}

TEST(KickstartDisks, OneDiskWithoutLvmIsPlainPartitions) {
    auto f = testutil::lab3_file(
        testutil::replaced(testutil::lab3_text(), "    role: compute\n    disk: sda\n",
                           "    role: compute\n    disks: {system: vda, lvm: false}\n"));
    auto d = kickstart::kickstart_disks(node_of(f->site(), "compute-node"));
    EXPECT_EQ(d.lines,
              "ignoredisk --only-use=vda\nzerombr\nclearpart --all --initlabel --disklabel=gpt "
              "--drives=vda\n"
              "bootloader --location=mbr --boot-drive=vda\n"
              "part /boot --fstype=xfs --size=1024 --ondisk=vda\n"
              "part swap --recommended --ondisk=vda\n"
              "part / --fstype=xfs --size=1 --grow --ondisk=vda\n");
    EXPECT_EQ(d.efi_lines, "part /boot/efi --fstype=efi --size=600 --ondisk=vda\n");
    EXPECT_EQ(d.bios_lines, "part biosboot --fstype=biosboot --size=1 --ondisk=vda\n");
}
