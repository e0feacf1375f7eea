// Boot menu editing against copies of the menus CentOS 7 and Rocky 9 DVDs ship
// (tests/data/menus, written from their documented structure).
#include "builder/boot_menu.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.hpp"
#include "common/text.hpp"

using namespace airstrap;
using namespace airstrap::builder;

namespace {

std::string data(const std::string& name) {
    std::ifstream in(std::filesystem::path(AIRSTRAP_TEST_DATA) / "menus" / name, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_FALSE(ss.str().empty()) << name;
    return ss.str();
}

MenuPlan plan(const std::string& label) {
    MenuPlan p;
    p.timeout_seconds = 7;
    p.group_title = "Install a particular node of lab3";
    p.old_label = label;
    p.entries = {
        {"airstrap-site", "Install lab3", "inst.ks=hd:LABEL=@LABEL@:/ks/site.ks", false},
        {"airstrap-compute", "A compute node", "inst.ks=hd:LABEL=@LABEL@:/ks/compute.ks", false},
        {"airstrap-node-c1", "c1 (compute)",
         "inst.ks=hd:LABEL=@LABEL@:/ks/compute.ks airstrap.node=c1", true},
    };
    return p;
}

std::size_t count(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (std::size_t at = 0; (at = text.find(needle, at)) != std::string::npos; ++at) ++n;
    return n;
}

// The lines of `text` that are not in `edited`, in order: what the edit removed or changed.
std::vector<std::string> lost_lines(const std::string& text, const std::string& edited) {
    std::vector<std::string> lost;
    auto theirs = text::split(text, '\n');
    auto ours = text::split(edited, '\n');
    std::size_t j = 0;
    for (const auto& line : theirs) {
        auto it = std::find(ours.begin() + static_cast<std::ptrdiff_t>(j), ours.end(), line);
        if (it == ours.end()) {
            lost.push_back(line);
        } else {
            j = static_cast<std::size_t>(it - ours.begin()) + 1;
        }
    }
    return lost;
}

}  // namespace

TEST(UdevEscape, EscapesWhatUdevEscapes) {
    EXPECT_EQ(udev_escape("CentOS 7 x86_64"), "CentOS\\x207\\x20x86_64");
    EXPECT_EQ(udev_escape("Rocky-9-4-x86_64-dvd"), "Rocky-9-4-x86_64-dvd");
    EXPECT_EQ(udev_escape("a/b\\c"), "a\\x2fb\\x5cc");
    EXPECT_EQ(udev_escape("RHEL-7.9 Server.x86_64"), "RHEL-7.9\\x20Server.x86_64");
}

TEST(GrubQuote, QuotesSingleQuotes) {
    EXPECT_EQ(grub_quote("CentOS 7 x86_64"), "'CentOS 7 x86_64'");
    EXPECT_EQ(grub_quote("it's"), "'it'\\''s'");
}

TEST(Isolinux, CentOS7GetsOurEntriesFirstAndKeepsTheVendorsIntact) {
    std::string in = data("centos7-isolinux.cfg");
    VendorEntry vendor;
    std::string out = edit_isolinux_cfg(in, plan("CentOS 7 x86_64"), "isolinux.cfg", &vendor);
    // The vendor's default was "check" (menu default): its kernel and arguments are the base.
    EXPECT_EQ(vendor.kernel, "vmlinuz");
    EXPECT_EQ(vendor.args,
              "initrd=initrd.img inst.stage2=hd:LABEL=CentOS\\x207\\x20x86_64 rd.live.check quiet");
    EXPECT_NE(out.find("label airstrap-site\n  menu label Install lab3\n  menu default\n  kernel "
                       "vmlinuz\n  append initrd=initrd.img "
                       "inst.stage2=hd:LABEL=CentOS\\x207\\x20x86_64 quiet "
                       "inst.ks=hd:LABEL=CentOS\\x207\\x20x86_64:/ks/site.ks\n"),
              std::string::npos)
        << out;
    // Exactly one default, ours; the timeout is ours (tenths of a second).
    EXPECT_EQ(count(out, "menu default"), 1u);
    EXPECT_NE(out.find("\ntimeout 70\n"), std::string::npos);
    // The node entries sit in a submenu that can be left.
    EXPECT_NE(out.find("menu begin ^Install a particular node of lab3\n"), std::string::npos);
    EXPECT_NE(out.find("    append initrd=initrd.img inst.stage2=hd:LABEL=CentOS\\x207\\x20x86_64 "
                       "quiet inst.ks=hd:LABEL=CentOS\\x207\\x20x86_64:/ks/compute.ks "
                       "airstrap.node=c1\n"),
              std::string::npos);
    // Ours come before the vendor's first entry; nothing of the vendor's is lost but the
    // old default marker and timeout.
    EXPECT_LT(out.find("label airstrap-site"), out.find("label linux"));
    EXPECT_EQ(lost_lines(in, out), (std::vector<std::string>{"timeout 600", "  menu default"}));
    // Editing is stable: a second pass changes only what it must (same entries again).
    EXPECT_EQ(count(edit_isolinux_cfg(in, plan("CentOS 7 x86_64"), "x"), "label airstrap-site"),
              1u);
}

TEST(Isolinux, Rocky9UsesTheVendorsPlainLabel) {
    std::string out = edit_isolinux_cfg(data("rocky9-isolinux.cfg"), plan("Rocky-9-4-x86_64-dvd"),
                                        "isolinux.cfg");
    EXPECT_NE(out.find("inst.stage2=hd:LABEL=Rocky-9-4-x86_64-dvd quiet "
                       "inst.ks=hd:LABEL=Rocky-9-4-x86_64-dvd:/ks/site.ks\n"),
              std::string::npos)
        << out;
    EXPECT_EQ(out.find("rd.live.check quiet inst.ks"), std::string::npos);
}

TEST(Isolinux, RelabelKeepsStage2InStep) {
    MenuPlan p = plan("CentOS 7 x86_64");
    p.new_label = "LAB3 SITE";
    std::string out = edit_isolinux_cfg(data("centos7-isolinux.cfg"), p, "isolinux.cfg");
    EXPECT_EQ(out.find("CentOS\\x207"), std::string::npos) << out;
    EXPECT_NE(out.find("inst.stage2=hd:LABEL=LAB3\\x20SITE quiet "
                       "inst.ks=hd:LABEL=LAB3\\x20SITE:/ks/site.ks"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("label rescue\n"), std::string::npos);
}

TEST(Isolinux, PlainDefaultWithoutMenuModule) {
    std::string in =
        "default linux\nprompt 1\ntimeout 50\nlabel linux\n  kernel vmlinuz\n  append "
        "initrd=initrd.img inst.stage2=hd:LABEL=X\n";
    std::string out = edit_isolinux_cfg(in, plan("X"), "isolinux.cfg");
    EXPECT_NE(out.find("default airstrap-site\n"), std::string::npos) << out;
    EXPECT_NE(out.find("timeout 70\n"), std::string::npos);
}

TEST(Isolinux, NoKernelAnywhereIsAnInputError) {
    try {
        edit_isolinux_cfg("default vesamenu.c32\nlabel local\n  localboot 0xffff\n", plan("X"),
                          "DVD.iso: isolinux/isolinux.cfg");
        FAIL() << "no error";
    } catch (const InputError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "DVD.iso: isolinux/isolinux.cfg: no 'label' entry with a kernel to start from");
    }
}

TEST(Grub, CentOS7UsesLinuxefiAndTheDefaultEntry) {
    std::string in = data("centos7-grub.cfg");
    VendorEntry vendor;
    std::string out = edit_grub_cfg(in, plan("CentOS 7 x86_64"), "grub.cfg", &vendor);
    EXPECT_EQ(vendor.title, "Test this media & install CentOS 7");  // set default="1"
    EXPECT_EQ(vendor.kernel, "linuxefi /images/pxeboot/vmlinuz");
    EXPECT_EQ(vendor.initrd, "initrdefi /images/pxeboot/initrd.img");
    EXPECT_NE(out.find("menuentry 'Install lab3' --class fedora --class gnu-linux --class gnu "
                       "--class os {\n\tlinuxefi /images/pxeboot/vmlinuz "
                       "inst.stage2=hd:LABEL=CentOS\\x207\\x20x86_64 quiet "
                       "inst.ks=hd:LABEL=CentOS\\x207\\x20x86_64:/ks/site.ks\n\tinitrdefi "
                       "/images/pxeboot/initrd.img\n}\n"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("set default=\"0\"\n"), std::string::npos);
    EXPECT_NE(out.find("set timeout=7\n"), std::string::npos);
    EXPECT_NE(out.find("submenu 'Install a particular node of lab3 -->' {\n\tmenuentry 'c1 "
                       "(compute)'"),
              std::string::npos);
    // Ours first; the search line and every vendor entry untouched.
    EXPECT_LT(out.find("menuentry 'Install lab3'"), out.find("menuentry 'Install CentOS 7'"));
    EXPECT_GT(out.find("menuentry 'Install lab3'"),
              out.find("search --no-floppy --set=root -l 'CentOS 7 x86_64'"));
    EXPECT_EQ(lost_lines(in, out),
              (std::vector<std::string>{"set default=\"1\"", "set timeout=60"}));
}

TEST(Grub, Rocky9UsesLinuxAndInitrd) {
    VendorEntry vendor;
    std::string out =
        edit_grub_cfg(data("rocky9-grub.cfg"), plan("Rocky-9-4-x86_64-dvd"), "grub.cfg", &vendor);
    EXPECT_EQ(vendor.kernel, "linux /images/pxeboot/vmlinuz");
    EXPECT_NE(out.find("\tlinux /images/pxeboot/vmlinuz inst.stage2=hd:LABEL=Rocky-9-4-x86_64-dvd "
                       "quiet inst.ks=hd:LABEL=Rocky-9-4-x86_64-dvd:/ks/compute.ks\n\tinitrd "
                       "/images/pxeboot/initrd.img\n"),
              std::string::npos)
        << out;
}

TEST(Grub, RelabelChangesSearchAndArguments) {
    MenuPlan p = plan("CentOS 7 x86_64");
    p.new_label = "LAB3";
    std::string out = edit_grub_cfg(data("centos7-grub.cfg"), p, "grub.cfg");
    EXPECT_NE(out.find("search --no-floppy --set=root -l 'LAB3'\n"), std::string::npos) << out;
    EXPECT_EQ(out.find("CentOS\\x207"), std::string::npos);
    EXPECT_EQ(out.find("'CentOS 7 x86_64'"), std::string::npos);
}

TEST(Grub, NoDefaultLineGetsOne) {
    std::string in = "menuentry 'A' {\n\tlinux /vmlinuz ro\n\tinitrd /initrd.img\n}\n";
    std::string out = edit_grub_cfg(in, plan("X"), "grub.cfg");
    EXPECT_EQ(out.find("set default=\"0\"\nset timeout=7\n# airstrap"), 0u) << out;
    EXPECT_NE(out.find("\tlinux /vmlinuz ro inst.ks=hd:LABEL=X:/ks/site.ks\n"), std::string::npos);
}

TEST(Grub, NoLinuxLineIsAnInputError) {
    EXPECT_THROW(edit_grub_cfg("menuentry 'A' {\n\tchainloader +1\n}\n", plan("X"), "grub.cfg"),
                 InputError);
}

TEST(Grub, HugeDefaultIndexFallsBackToTheFirstEntry) {  // found by menu_fuzz
    std::string in =
        "set default=\"99999999999999999999999\"\nmenuentry 'A' {\n\tlinux /vmlinuz ro\n}\n";
    std::string out = edit_grub_cfg(in, plan("X"), "grub.cfg");
    EXPECT_NE(out.find("\tlinux /vmlinuz ro inst.ks=hd:LABEL=X:/ks/site.ks\n"), std::string::npos);
}
