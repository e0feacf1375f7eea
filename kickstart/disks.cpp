#include "kickstart/disks.hpp"

#include "common/text.hpp"

namespace airstrap::kickstart {

namespace {

using site::DiskSelector;

// The %pre function that finds a disk by size and model. Sizes as vendors give them (decimal
// GB) within 5%; the model is a shell glob on /sys/block/X/device/model, trailing blanks
// removed; disks already taken (in $airstrap_taken) are skipped; kernel-name order.
const char* const disk_finder =
    "airstrap_disk_matching() {  # GB MODEL-GLOB WHAT\n"
    "    for d in /sys/block/*; do\n"
    "        n=${d##*/}\n"
    "        case \" $airstrap_taken \" in *\" $n \"*) continue ;; esac\n"
    "        [ -e \"$d/device\" ] || continue\n"
    "        [ \"$(cat \"$d/removable\" 2>/dev/null)\" = 1 ] && continue\n"
    "        if [ \"$1\" -gt 0 ]; then\n"
    "            gb=$(( $(cat \"$d/size\") * 512 / 1000000000 ))\n"
    "            [ $(( gb * 100 )) -ge $(( $1 * 95 )) ] && [ $(( gb * 100 )) -le $(( $1 * 105 )) ] "
    "|| continue\n"
    "        fi\n"
    "        model=$(sed 's/[[:space:]]*$//' \"$d/device/model\" 2>/dev/null)\n"
    "        case \"$model\" in $2) ;; *) continue ;; esac\n"
    "        airstrap_taken=\"$airstrap_taken $n\"\n"
    "        echo \"$n\"\n"
    "        return 0\n"
    "    done\n"
    "    echo \"airstrap: no disk of this machine matches $3 of $node (disks: $(ls /sys/block | "
    "tr '\\n' ' '))\" | tee /dev/console >&2\n"
    "    return 1\n"
    "}\n";

struct Names {
    std::string resolve;
    int count = 0;
    // The name a kickstart line uses for `d`: itself, or a %pre variable that finds it.
    std::string of(const DiskSelector& d, const std::string& what) {
        if (!d.is_match()) return d.device;
        std::string var = "airstrap_disk" + std::to_string(++count);
        // The glob is letters, digits, blanks and - _ . / * ? (site validation): single quotes
        // keep it as it is.
        // What it looks for, for the message: in double quotes, where a model's '*' stays.
        std::string looks_for = d.size_gb ? "size " + std::to_string(d.size_gb) + "G" : "";
        if (!d.model.empty()) looks_for += (looks_for.empty() ? "model " : ", model ") + d.model;
        resolve += var + "=$(airstrap_disk_matching " + std::to_string(d.size_gb) + " '" +
                   (d.model.empty() ? "*" : d.model) + "' \"" + what + " (" + looks_for +
                   ")\") || exit 1\n";
        // Names may be taken by a later named disk too: named disks are never candidates.
        return "${" + var + "}";
    }
};

}  // namespace

KickstartDisks kickstart_disks(const site::Node& node) {
    const site::Disks& d = node.disks;
    KickstartDisks out;
    if (d.is_simple()) {
        const std::string& disk = d.system[0].device;
        out.lines = "ignoredisk --only-use=" + disk +
                    "\nzerombr\nclearpart --all --initlabel --drives=" + disk +
                    "\nbootloader --location=mbr --boot-drive=" + disk +
                    "\n"
                    // No /home: Packstack's Cinder loop file and Glance images live under /var.
                    "autopart --type=lvm --nohome\n";
        return out;
    }
    Names names;
    // Disks the site names are never matched: by their kernel names (a path resolved).
    std::string taken = "airstrap_taken=\n";
    auto take = [&](const DiskSelector& s) {
        if (s.is_match()) return;
        taken += s.device.starts_with("/dev/")
                     ? "airstrap_taken=\"$airstrap_taken $(basename \"$(readlink -f " + s.device +
                           ")\")\"\n"
                     : "airstrap_taken=\"$airstrap_taken " + s.device + "\"\n";
    };
    for (const auto& s : d.system) take(s);
    for (const auto& v : d.data) take(v.disk);
    std::vector<std::string> system;
    for (std::size_t i = 0; i < d.system.size(); ++i)
        system.push_back(names.of(d.system[i], "system disk " + std::to_string(i + 1)));
    std::vector<std::string> data;
    for (const auto& v : d.data) data.push_back(names.of(v.disk, site::to_string(v.use)));
    std::vector<std::string> all = system;
    all.insert(all.end(), data.begin(), data.end());

    std::string l = "ignoredisk --only-use=" + text::join(all, ",") +
                    "\nzerombr\n"
                    // GPT on BIOS too: a BIOS boot partition per disk (msdos has none), disks
                    // over 2 TiB, and the same layout whatever the installer's default label.
                    "clearpart --all --initlabel --disklabel=gpt --drives=" +
                    text::join(all, ",") +
                    "\n"
                    // With /boot on RAID1, Anaconda puts the boot loader on every member's disk;
                    // rd.retry=30: dracut starts an array missing a member after 20 s, not two
                    // minutes (the images' command line has it too).
                    "bootloader --location=mbr --boot-drive=" +
                    system[0] +
                    (d.layout == site::SystemLayout::raid1 ? " --append=\"rd.retry=30\"" : "") +
                    "\n";
    bool raid = d.layout == site::SystemLayout::raid1;
    auto part = [&](const std::string& what, const std::string& size, std::size_t i) {
        return "part " + what + " " + size + " --ondisk=" + system[i] + "\n";
    };
    // The platform's boot partitions: a 1 MiB BIOS boot partition per system disk for GRUB on
    // a GPT disk, or the ESP (RAID1 with metadata 1.0 at the end under raid1: each half is a
    // plain FAT the firmware reads). Which one: the machine's firmware, seen by %pre.
    std::string efi, bios;
    for (std::size_t i = 0; i < system.size(); ++i)
        bios += part("biosboot", "--fstype=biosboot --size=1", i);
    if (raid) {
        efi = part("raid.11", "--size=" + std::to_string(esp_mib), 0) +
              part("raid.12", "--size=" + std::to_string(esp_mib), 1) +
              "raid /boot/efi --level=1 --device=boot_efi --fstype=efi raid.11 raid.12\n";
        l += part("raid.21", "--size=" + std::to_string(boot_mib), 0) +
             part("raid.22", "--size=" + std::to_string(boot_mib), 1) +
             "raid /boot --level=1 --device=boot --fstype=xfs raid.21 raid.22\n";
        if (d.lvm) {
            l += part("raid.31", "--size=1 --grow", 0) + part("raid.32", "--size=1 --grow", 1) +
                 "raid pv.01 --level=1 --device=pv_system raid.31 raid.32\n";
        } else {
            l += part("raid.31", "--size=" + std::to_string(raid_swap_mib), 0) +
                 part("raid.32", "--size=" + std::to_string(raid_swap_mib), 1) +
                 "raid swap --level=1 --device=swap --fstype=swap raid.31 raid.32\n" +
                 part("raid.41", "--size=1 --grow", 0) + part("raid.42", "--size=1 --grow", 1) +
                 "raid / --level=1 --device=root --fstype=xfs raid.41 raid.42\n";
        }
    } else {
        efi = part("/boot/efi", "--fstype=efi --size=" + std::to_string(esp_mib), 0);
        l += part("/boot", "--fstype=xfs --size=" + std::to_string(boot_mib), 0);
        if (d.lvm) {
            l += part("pv.01", "--size=1 --grow", 0);
        } else {
            l += part("swap", "--recommended", 0) + part("/", "--fstype=xfs --size=1 --grow", 0);
        }
    }
    if (d.lvm) {
        l += std::string("volgroup ") + system_vg + " pv.01\n" +
             "logvol swap --vgname=" + system_vg + " --name=swap --recommended\n" +
             "logvol / --vgname=" + system_vg + " --name=root --fstype=xfs --size=1 --grow\n";
    }
    for (std::size_t i = 0; i < d.data.size(); ++i) {
        const std::string& disk = data[i];
        if (d.data[i].use == site::DiskUse::cinder_volumes) {
            // Packstack's Cinder uses this group (CONFIG_CINDER_VOLUMES_CREATE=n), not a loop file.
            l += "part pv.cinder --size=1 --grow --ondisk=" + disk +
                 "\nvolgroup cinder-volumes pv.cinder\n";
        } else {
            l +=
                "part /var/lib/nova/instances --fstype=xfs --size=1 --grow --ondisk=" + disk + "\n";
        }
    }
    out.lines = l;
    out.efi_lines = efi;
    out.bios_lines = bios;
    if (names.count) out.resolve = disk_finder + taken + names.resolve;
    return out;
}

}  // namespace airstrap::kickstart
