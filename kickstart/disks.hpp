// A node's disks as kickstart commands: the simple one-disk layout with autopart, or the
// explicit layout (boot partitions on each system disk for BIOS and UEFI, RAID1 for /boot,
// the ESP and the system, LVM or plain partitions, data volumes on their own disks).
#pragma once

#include <string>

#include "site/model.hpp"

namespace airstrap::kickstart {

struct KickstartDisks {
    // %pre shell that sets airstrap_diskN to the kernel name of each disk matched by size and
    // model (the install stops, naming the match, when no disk fits); "" when none is.
    std::string resolve;
    // The partitioning commands; ${airstrap_diskN} where `resolve` sets it (%pre writes them
    // through an unquoted here-document). No other '$', '`' or '\\'.
    std::string lines;
    // The boot partitions of the explicit layout, by firmware (%pre keeps the machine's:
    // /sys/firmware/efi): the ESP (RAID1 under raid1), or a BIOS boot partition per disk.
    std::string efi_lines, bios_lines;
};

KickstartDisks kickstart_disks(const site::Node& node);

// Sizes of the explicit layout, MiB.
inline constexpr int esp_mib = 600;
inline constexpr int boot_mib = 1024;
inline constexpr int raid_swap_mib = 4096;
// The volume group of the system in the explicit layout.
inline constexpr const char* system_vg = "system";

}  // namespace airstrap::kickstart
