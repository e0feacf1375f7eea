// The site ISO: the vendor DVD remastered without unpacking it. The vendor image is copied
// inside the kernel (copy_file_range) while a second thread reads the DVD, checks the site
// repository and prepares the session's files; then xorriso (libisoburn) appends one session that
// adds /ks/*.ks and the site repository (/airstrap/repo) and replaces the three boot menus
// (isolinux.cfg, EFI/BOOT/grub.cfg, and images/efiboot.img whose grub.cfg UEFI reads from
// USB), replaying the vendor's El Torito and hybrid MBR/GPT boot setup, and reports the new
// image's boot images (as many as the vendor's, or nothing is written). Unchanged files keep
// their bytes and places; written beside the target and renamed into place.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "builder/boot_menu.hpp"
#include "common/subprocess.hpp"
#include "site/model.hpp"
#include "site/secrets.hpp"

namespace airstrap::builder {

struct IsoOptions {
    std::filesystem::path output;
    std::filesystem::path vendor_iso;  // empty: the site's media.vendor_iso
    std::filesystem::path repo;        // an `airstrap mirror` output
    std::string volume_id;             // empty: keep the vendor's label
    std::string append;                // extra kernel arguments for airstrap's entries
    int timeout_seconds = 10;
    // Media for one node (reprovisioning it): its entry is the only airstrap entry and the
    // default, so the machine installs as that node without a choice. Empty: the whole site.
    std::string node;
    std::function<void(const std::string&)> log;
    std::function<void(std::uint64_t done, std::uint64_t total)> progress;  // the vendor copy
};

struct IsoSummary {
    std::string vendor_label, volume_id, product;
    std::vector<std::string> kickstarts;  // /ks/… paths on the ISO
    std::vector<std::string> menus;       // the boot menus edited
    std::size_t entries = 0;              // airstrap's entries per menu
    std::uint64_t bytes = 0;              // of the output
    std::uint64_t vendor_bytes = 0;
};

// The menu entries for a site: the site profile (default), one per role, one per node; or,
// with `node`, that node's entry alone (InputError naming the site's nodes if it has none
// of that name). `ks_prefix` is how the kernel finds the kickstarts ("hd:LABEL=@LABEL@:/ks/"
// on media, "http://10.0.0.1:8080/ks/" for PXE); `extra` is appended to every entry. With
// `per_node_kickstarts` (a network install): one entry per node, each with its own
// nodes/NAME.ks, and no site or role profile.
MenuPlan site_menu_plan(const site::Site& site, const std::string& ks_prefix,
                        const std::string& extra, int timeout_seconds, const std::string& node = "",
                        bool per_node_kickstarts = false);

IsoSummary build_iso(const site::Site& site, const site::Secrets& secrets,
                     const IsoOptions& options, CommandRunner& runner);

}  // namespace airstrap::builder
