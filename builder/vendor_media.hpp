// The vendor install DVD, read in place (libarchive, no mount): which layout it has, its
// volume label, and the boot files the builder edits or copies.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "common/file_io.hpp"
#include "site/model.hpp"

namespace airstrap::builder {

enum class MediaLayout {
    el7,  // CentOS/RHEL 7: Packages/ + repodata/ at the root, LiveOS/squashfs.img
    el8,  // RHEL-family 8 and 9: BaseOS/ + AppStream/, images/install.img
};

struct VendorMedia {
    std::filesystem::path path;
    std::string volume_id;  // the ISO 9660 volume label ("CentOS 7 x86_64")
    MediaLayout layout = MediaLayout::el7;
    std::string product;  // from .treeinfo: "CentOS 7", "Rocky Linux 9.4"; may be empty
    std::map<std::string, std::uint64_t> files;
    // Boot files, when the DVD has them.
    std::optional<std::string> isolinux_cfg;  // isolinux/isolinux.cfg
    std::optional<std::string> grub_cfg;      // EFI/BOOT/grub.cfg
    bool has_efiboot = false;                 // images/efiboot.img
};

inline constexpr const char* isolinux_cfg_path = "isolinux/isolinux.cfg";
inline constexpr const char* grub_cfg_path = "EFI/BOOT/grub.cfg";
inline constexpr const char* efiboot_path = "images/efiboot.img";
inline constexpr const char* pxeboot_kernel_path = "images/pxeboot/vmlinuz";
inline constexpr const char* pxeboot_initrd_path = "images/pxeboot/initrd.img";

// Reads the file list, .treeinfo, the volume label and the boot menus. InputError when the
// file is not an ISO 9660 image, or has neither install layout (the message says what was
// looked for), or has no boot menu at all.
VendorMedia inspect_vendor_iso(const std::filesystem::path& iso);

// InputError when the DVD's generation does not match the site's distro.
void check_media_matches(const VendorMedia& media, site::Distro distro);

// Extracts `paths` (present in media.files) into dir/<path>.
void extract_files(const VendorMedia& media, const std::set<std::string>& paths,
                   const std::filesystem::path& dir, Durability durability = Durability::durable);

// The ISO 9660 primary volume descriptor's volume identifier, trailing blanks removed.
std::string read_volume_id(const std::filesystem::path& iso);

}  // namespace airstrap::builder
