// Boot menu editing: the vendor's isolinux.cfg (BIOS) and grub.cfg (UEFI, on the ISO and
// inside images/efiboot.img) get airstrap's entries in front of their own. Each new entry is
// the vendor's default entry (its kernel, initrd and arguments, so inst.stage2 stays what the
// vendor wrote) plus our arguments; the vendor's entries stay, no longer the default.
// Pure text in, text out: the builder reads and writes the files.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace airstrap::builder {

struct MenuEntry {
    std::string id;        // isolinux label: [a-z0-9-], unique
    std::string title;     // what the menu shows
    std::string args;      // appended to the vendor's kernel arguments
    bool grouped = false;  // in the "a particular node" submenu rather than at the top
};

struct MenuPlan {
    std::vector<MenuEntry> entries;  // the first is the default
    int timeout_seconds = 10;
    std::string group_title;  // the submenu that holds the grouped entries
    // Kernel arguments of the vendor's entry that the new entries leave out (rd.live.check:
    // a media check before every unattended install).
    std::vector<std::string> drop_args = {"rd.live.check"};
    // Volume label change: every "LABEL=<old>" (udev-escaped) and grub "search -l 'old'"
    // becomes the new one. Empty: the label stays.
    std::string old_label, new_label;
};

// A volume label as udev writes it in /dev/disk/by-label and Anaconda matches it in
// hd:LABEL=: bytes other than [A-Za-z0-9#+-.:=@_] as \xNN ("CentOS 7" → "CentOS\x207").
std::string udev_escape(std::string_view label);

// The word `text` as grub's script parser reads it back verbatim: single-quoted, with
// embedded single quotes as '\''.
std::string grub_quote(std::string_view text);

// The vendor entry's kernel arguments found while editing (what the new entries start from).
struct VendorEntry {
    std::string title;
    std::string kernel;  // isolinux: "vmlinuz"; grub: "/images/pxeboot/vmlinuz"
    std::string initrd;  // grub only (isolinux carries initrd= in the arguments)
    std::string args;
};

// Throws InputError naming `where` when the file has no entry to start from.
std::string edit_isolinux_cfg(std::string_view text, const MenuPlan& plan, const std::string& where,
                              VendorEntry* found = nullptr);
std::string edit_grub_cfg(std::string_view text, const MenuPlan& plan, const std::string& where,
                          VendorEntry* found = nullptr);

// The default entry of an isolinux.cfg / grub.cfg (for the PXE tree, which writes its own
// menus from the vendor's kernel arguments).
VendorEntry isolinux_default_entry(std::string_view text, const std::string& where);
VendorEntry grub_default_entry(std::string_view text, const std::string& where);

}  // namespace airstrap::builder
