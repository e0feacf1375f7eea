// Distro profiles for disk images, as data (builder/profiles/*.yaml, compiled in; or a file
// given with --profile): the base packages, what is unpacked before the image's own rpm
// runs, file systems and mkfs options the target's kernel mounts, network style, and the
// target's own initramfs and bootloader commands with {kver} and {disk} filled in.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace airstrap::builder {

struct Profile {
    std::string name, description;
    std::string source;                  // "el7 (built in)" or the file, for messages
    std::vector<std::string> packages;   // the base set; the role's packages come on top
    std::vector<std::string> bootstrap;  // unpacked with libarchive (their closure)
    std::string root_fs = "xfs", boot_fs = "xfs";
    std::map<std::string, std::string> mkfs_options;  // fs type → mkfs options
    enum class Network { ifcfg, keyfile } network = Network::ifcfg;
    bool selinux_config = true;  // /etc/selinux/config exists on this distro
    std::string kernel_cmdline;
    std::string grub_defaults;  // /etc/default/grub without GRUB_CMDLINE_LINUX
    std::vector<std::string> initramfs;
    std::vector<std::vector<std::string>> bootloader;
};

// NAME is a built-in profile (el7, el8, el9) or a path to a profile file (has a '/' or ends
// in .yaml). InputError with FILE:LINE:COL for a bad file, or the built-in names.
Profile load_profile(const std::string& name);
Profile parse_profile(const std::string& text, const std::string& source);
std::vector<std::string> builtin_profiles();

}  // namespace airstrap::builder
