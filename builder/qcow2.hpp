// A qcow2 disk image per node: GPT with a BIOS boot partition, an ESP, /boot and root (boots
// on BIOS and UEFI; a node whose site disks are RAID1 gets one disk file per member, the ESP,
// /boot and root RAID1 arrays across them, GRUB on each), the file systems the distro profile
// names. Each role's tree is put together on this host (staging.hpp: the bootstrap packages'
// payloads unpacked with libarchive, then the image's own rpm installs the role's closure from
// the site repository, so its rpmdb has the target's format and scriptlets run; the services,
// the target's own initramfs, sysprep: no machine-id, no SSH host keys) while one libguestfs
// appliance partitions every disk; the appliance then copies the tree and the site repository
// (/opt/airstrap/repo) in, writes the node's own configuration from kickstart::node_setup (the
// same decisions the kickstart renders) and runs the target's bootloader commands. Every image
// is written beside its target and renamed into place. Needs root.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "builder/profile.hpp"
#include "common/subprocess.hpp"
#include "kickstart/node_setup.hpp"
#include "site/model.hpp"
#include "site/secrets.hpp"

namespace airstrap::builder {

struct Qcow2Options {
    std::filesystem::path repo;      // the site repository (`airstrap mirror` output)
    std::string profile;             // empty: site qcow2.profile, else the site's distro
    std::vector<std::string> nodes;  // the nodes to build, in order
    // One node: the image file. Several: a folder that gets NODE.qcow2 each.
    std::filesystem::path output;
    std::optional<int> size_gib;   // default: site qcow2.size
    std::optional<bool> compress;  // default: site qcow2.compress
    std::function<void(const std::string&)> log;
};

struct Qcow2Image {
    std::string node;
    std::filesystem::path path;                // its first disk
    std::vector<std::filesystem::path> disks;  // every disk: RAID1 members NAME-disk2.qcow2 …
    std::size_t packages = 0;
    std::uint64_t installed_bytes = 0;  // rpm's SIZE of every installed package
    std::uint64_t file_bytes = 0;       // the qcow2 files
    std::uint64_t virtual_bytes = 0;
    std::string kernel;
    double seconds = 0;
};

struct Qcow2Summary {
    std::string profile;
    double launch_seconds = 0;
    std::vector<Qcow2Image> images;
};

// The image path of `node` for these options (its first disk; the others beside it,
// NAME-disk2.qcow2 …).
std::filesystem::path qcow2_output_for(const Qcow2Options& options, const std::string& node);

// InputError (bad node, profile, repository, or a package the repository lacks) before
// anything is written; Error naming the step and the node if building fails, with no
// output left behind.
Qcow2Summary build_qcow2(const site::Site& site, const site::Secrets& secrets,
                         const Qcow2Options& options, CommandRunner& runner);

}  // namespace airstrap::builder

namespace airstrap::builder {

// What an image of `role` installs: the profile's base set in place of the kickstart's
// environment group and @core, then the role's packages and the site's additions;
// the role's removals are excluded.
struct ImagePackages {
    std::vector<std::string> install, exclude;
};
ImagePackages image_packages(const site::Site& site, site::Role role, const Profile& profile);

// /etc/shadow with root's hash replaced; InputError when it has no root line.
std::string shadow_with_root_hash(const std::string& shadow, const std::string& hash);
// The script run in the image for the node's services and package removals.
std::string services_script(const kickstart::NodeSetup& setup);
// /etc/fstab by UUID.
std::string fstab_text(const std::string& root_uuid, const std::string& root_fs,
                       const std::string& boot_uuid, const std::string& boot_fs,
                       const std::string& esp_uuid);
// A profile command with {kver}, {disk}, {root_uuid}, {boot_uuid} filled in; InputError on
// any other {word}.
std::vector<std::string> fill_command(const std::vector<std::string>& argv,
                                      const std::map<std::string, std::string>& values);

}  // namespace airstrap::builder
