#include "builder/qcow2.hpp"

#include <archive_entry.h>
#include <guestfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <map>
#include <memory>
#include <mutex>

#include "builder/guest.hpp"
#include "builder/staging.hpp"
#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/text.hpp"
#include "kickstart/node_setup.hpp"
#include "kickstart/render.hpp"
#include "node/layout.hpp"
#include "repo-mirror/archive.hpp"
#include "repo-mirror/closure.hpp"
#include "repo-mirror/local_repo.hpp"
#include "repo-mirror/lock.hpp"

namespace airstrap::builder {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// GPT partition types.
constexpr const char* bios_boot_type = "21686148-6449-6E6F-744E-656564454649";
constexpr const char* esp_type = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
constexpr const char* linux_fs_type = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
constexpr const char* linux_raid_type = "A19D880F-05FC-4D3B-A006-743F0F84911E";

double since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string fixed(double v, int digits = 1) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

struct TarMember {
    std::string path;     // absolute in the image
    std::string content;  // a symlink's target for symlinks
    unsigned mode = 0644;
    enum class Kind { file, directory, symlink } kind = Kind::file;
};

// Files owned by root, as one tar for guestfs_tar_in.
void write_tar(const std::vector<TarMember>& members, const fs::path& tar) {
    const std::string cannot_write = "cannot write " + tar.string() + ": ";
    mirror::ArchiveWriter out;
    out.open_file(tar, cannot_write);
    for (const auto& m : members) {
        mirror::ArchiveEntry entry;
        archive_entry* e = entry.get();
        archive_entry_set_pathname(e, ("." + m.path).c_str());
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
        archive_entry_set_mtime(e, ::time(nullptr), 0);
        if (m.kind == TarMember::Kind::directory) {
            archive_entry_set_filetype(e, AE_IFDIR);
        } else if (m.kind == TarMember::Kind::symlink) {
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_symlink(e, m.content.c_str());
        } else {
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_size(e, static_cast<la_int64_t>(m.content.size()));
        }
        archive_entry_set_perm(e, m.mode);
        out.write_header(e, cannot_write);
        if (m.kind == TarMember::Kind::file && !m.content.empty())
            out.write_data(m.content.data(), m.content.size(), cannot_write);
    }
    out.close(cannot_write);
}

// Output files written under a temporary name, removed unless committed.
struct PendingOutputs {
    std::vector<std::pair<fs::path, fs::path>> files;  // temp → final
    bool committed = false;
    ~PendingOutputs() {
        if (committed) return;
        std::error_code ec;
        for (const auto& f : files) fs::remove(f.first, ec);
    }
};

// The file systems' devices by libguestfs's names (which its API calls translate; on RAID1
// the md arrays), and the disks by the appliance kernel's own names, which commands run in
// the appliance or the image need: the kernel names disks in the order its SCSI scan
// finishes, so the appliance's own disk may be sda and ours sdb.
struct Layout {
    std::string esp, boot, root;
    std::vector<std::string> kernel_disks;
    std::vector<std::string> md_uuids;  // RAID1: the esp, boot and root arrays' md UUIDs
};

// How many disk files a node's image has: its system disks under RAID1, else one.
std::size_t disks_of(const site::Node& n) {
    return n.disks.layout == site::SystemLayout::raid1 ? n.disks.system.size() : 1;
}

// The i-th (0-based) disk file of an image whose first disk is `first`: NAME.qcow2,
// NAME-disk2.qcow2, …
fs::path disk_file(const fs::path& first, std::size_t i) {
    if (i == 0) return first;
    return first.parent_path() /
           (first.stem().string() + "-disk" + std::to_string(i + 1) + first.extension().string());
}

// Step timing and errors, shared by the host's trees and the appliance's images (two threads:
// their log lines must not interleave mid-line).
class Steps {
  public:
    explicit Steps(const std::function<void(const std::string&)>& log) : log_(log) {}
    void log(const std::string& line) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (log_) log_(line);
    }
    // fn() as step `what` of `who`: timed in the log; an error names both.
    template <typename Fn>
    void run(const std::string& who, const std::string& what, Fn fn) {
        auto t = Clock::now();
        try {
            fn();
        } catch (const InputError&) {
            throw;
        } catch (const std::exception&) {
            std::throw_with_nested(Error("qcow2 of " + who + ": " + what));
        }
        log(who + ": " + what + " (" + fixed(since(t)) + " s)");
    }

  private:
    const std::function<void(const std::string&)>& log_;
    std::mutex mutex_;
};

// Nodes of one role share a tree; RAID1 ones get mdadm too.
struct TreeKey {
    site::Role role;
    bool raid = false;
    auto operator<=>(const TreeKey&) const = default;
};

std::string tree_name(const TreeKey& key) {
    return std::string(site::to_string(key.role)) + (key.raid ? " (RAID1)" : "") + " tree";
}

// A staged tree: what every node of its key gets, packed for the appliance.
struct StagedTree {
    fs::path tar;
    std::uint64_t tar_bytes = 0;
    std::string kernel;
    std::size_t packages = 0;
    std::uint64_t installed_bytes = 0;  // rpm's SIZE of every installed package
    std::string shadow;                 // its /etc/shadow: each node's gets root's hash
    unsigned shadow_mode = 0;
};

// Puts a role's tree together on the host (staging.hpp): the bootstrap packages' payloads
// unpacked, the image's own rpm installing the closure from the site repository (bound in
// read-only), the site-wide configuration and services, the target's initramfs, sysprep;
// then the tree and the site repository packed as one tar.
class TreeStager {
  public:
    TreeStager(const site::Site& site, const site::Secrets& secrets, const Profile& profile,
               const Qcow2Options& options, mirror::PackagePool& pool, Steps& steps)
        : site_(site),
          secrets_(secrets),
          profile_(profile),
          options_(options),
          pool_(pool),
          steps_(steps) {}

    StagedTree stage(const TreeKey& key, const std::string& first_node, const fs::path& scratch) {
        const std::string who = tree_name(key);
        std::string folder =
            std::string("tree-") + site::to_string(key.role) + (key.raid ? "-raid1" : "");
        StagingTree tree(scratch / folder);
        ImagePackages wanted = image_packages(site_, key.role, profile_);
        if (key.raid) wanted.install.push_back("mdadm");
        std::vector<mirror::PackageRef> closure =
            pool_.closure({wanted.install, {}, wanted.exclude, false});
        std::vector<mirror::PackageRef> bootstrap =
            pool_.closure({profile_.bootstrap, {}, wanted.exclude, false});
        const std::vector<StagingBind> repo = {
            {fs::absolute(options_.repo).lexically_normal(), node::repository_dir}};
        StagedTree out;
        steps_.run(who,
                   "unpack " + std::to_string(bootstrap.size()) + " bootstrap packages (" +
                       text::join(profile_.bootstrap, ", ") + ")",
                   [&] {
                       for (const auto& p : bootstrap) {
                           fs::path rpm = options_.repo / p.location;
                           mirror::ArchiveReader in(mirror::ArchiveReader::cpio);
                           in.open_file(rpm, 1 << 16,
                                        "cannot read the payload of " + rpm.string() + ": ");
                           in.extract_all(tree.root(), "the payload of " + rpm.string());
                       }
                   });
        steps_.run(who,
                   "rpm -i " + std::to_string(closure.size()) +
                       " packages with the image's own rpm (on this host, chrooted)",
                   [&] {
                       std::vector<std::string> argv = {"rpm", "-i", "--nosignature"};
                       for (const auto& p : closure)
                           argv.push_back(std::string(node::repository_dir) + "/" + p.location);
                       tree.command(argv, repo);
                   });
        kickstart::NodeSetup setup = kickstart::node_setup(site_, secrets_, first_node);
        steps_.run(who, "site configuration and services", [&] { configure(tree, setup); });
        out.kernel = kernel_version(tree);
        steps_.run(who, "initramfs for " + out.kernel, [&] {
            tree.command(fill_command(profile_.initramfs, {{"kver", out.kernel}}));
        });
        steps_.run(who, "sysprep (no machine-id, no SSH host keys)", [&] { sysprep(tree, setup); });
        std::string sizes = tree.command({"rpm", "-qa", "--qf", "%{SIZE}\\n"});
        for (const auto& line : text::split(sizes, '\n')) {
            if (auto v = text::parse_int(text::trim(line))) {
                out.installed_bytes += static_cast<std::uint64_t>(*v);
                ++out.packages;
            }
        }
        fs::path shadow = tree.host_path("/etc/shadow");
        out.shadow = read_file(shadow, 1 << 20);
        out.shadow_mode = static_cast<unsigned>(fs::status(shadow).permissions()) & 07777;
        out.tar = scratch / (folder + ".tar");
        steps_.run(who, "pack the tree and the site repository", [&] {
            const std::string cannot_write = "cannot write " + out.tar.string() + ": ";
            mirror::ArchiveWriter tar;
            tar.open_file(out.tar, cannot_write);
            tar.add_tree(tree.root(), ".");
            tar.add_tree(repo[0].host, "." + std::string(node::repository_dir), true);
            tar.close(cannot_write);
            out.tar_bytes = fs::file_size(out.tar);
        });
        std::error_code ec;
        fs::remove_all(tree.root(), ec);  // the tar has it all
        return out;
    }

  private:
    // What is the same on every node of the site: SELinux, time zone, clock, locale, keymap,
    // then the services script (the site's services, the role's removals).
    void configure(const StagingTree& tree, const kickstart::NodeSetup& s) {
        auto put = [&](const std::string& path, const std::string& content, mode_t mode) {
            fs::path target = tree.host_path(path);
            fs::create_directories(target.parent_path());
            write_file_atomic(target, content, mode);
        };
        if (profile_.selinux_config)
            put("/etc/selinux/config", kickstart::selinux_config_text(s.selinux), 0644);
        if (fs::exists(tree.host_path("/usr/share/zoneinfo/" + s.timezone))) {
            fs::path localtime = tree.host_path("/etc/localtime");
            std::error_code ec;
            fs::remove(localtime, ec);
            fs::create_symlink("../usr/share/zoneinfo/" + s.timezone, localtime);
        }
        if (!s.rtc_utc) put("/etc/adjtime", "0.0 0 0.0\n0\nLOCAL\n", 0644);
        put("/etc/locale.conf", "LANG=" + s.language + "\n", 0644);
        put("/etc/vconsole.conf", "KEYMAP=" + s.keymap + "\n", 0644);
        std::string out = tree.command({"sh", "-c", services_script(s)});
        for (const auto& line : text::split(out, '\n')) {
            if (!text::trim(line).empty()) steps_.log(s.node + ": " + text::trim(line));
        }
    }

    std::string kernel_version(const StagingTree& tree) {
        std::string dir = fs::is_directory(tree.host_path("/usr/lib/modules")) ? "/usr/lib/modules"
                                                                               : "/lib/modules";
        std::vector<std::string> versions;
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(tree.host_path(dir), ec)) {
            std::string v = e.path().filename().string();
            if (fs::exists(tree.host_path("/boot/vmlinuz-" + v))) versions.push_back(v);
        }
        if (versions.empty())
            throw InputError("the image has no kernel (no /boot/vmlinuz-VERSION with " + dir +
                             "/VERSION): does profile " + profile_.name +
                             " list the kernel package?");
        std::sort(versions.begin(), versions.end());
        return versions.back();
    }

    void sysprep(const StagingTree& tree, const kickstart::NodeSetup& s) {
        // An empty machine-id: systemd makes the node's own at first boot.
        if (fs::exists(tree.host_path("/etc/machine-id")))
            write_file_atomic(tree.host_path("/etc/machine-id"), "", 0444);
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(tree.host_path("/etc/ssh"), ec)) {
            if (e.path().filename().string().starts_with("ssh_host_")) fs::remove(e.path());
        }
        for (const char* p :
             {"/var/lib/systemd/random-seed", "/root/.bash_history", "/var/lib/rpm/__db.001",
              "/var/lib/rpm/__db.002", "/var/lib/rpm/__db.003"})
            fs::remove(tree.host_path(p));
        for (const char* cache : {"/var/cache/yum", "/var/cache/dnf"})
            fs::remove_all(tree.host_path(cache));
        if (profile_.selinux_config && s.selinux != site::Selinux::disabled)
            write_file_atomic(tree.host_path("/.autorelabel"), "", 0644);
    }

    const site::Site& site_;
    const site::Secrets& secrets_;
    const Profile& profile_;
    const Qcow2Options& options_;
    mirror::PackagePool& pool_;
    Steps& steps_;
};

// A node's disks once the appliance has partitioned them.
struct NodeDisks {
    Layout l;
    std::map<std::string, std::string> uuids;  // esp, boot, root
};

// One shell script in the appliance: each libguestfs call costs a round trip (a second
// or more under TCG), and libguestfs's mkfs passes no mkfs.xfs -m/-i options, without
// which an older target kernel (EL7's 3.10) refuses the file system. With several disks
// each gets the same partitions and the ESP, /boot and root are RAID1 arrays across them
// (as Anaconda's raid1 layout): the ESP's with metadata 1.0 (at the end, so firmware
// reads either member as a plain FAT), the others 1.2 (GRUB's mdraid1x reads them). Both
// members start equal (new disks read as zeros), hence --assume-clean: no resync.
NodeDisks partition_and_format(Guest& g, const Profile& profile,
                               const std::vector<std::string>& disks, std::size_t first) {
    bool raid = disks.size() > 1;
    auto mkfs = [&](const std::string& type, const std::string& device) {
        auto it = profile.mkfs_options.find(type);
        std::string opts = it == profile.mkfs_options.end() ? "" : it->second;
        return "mkfs." + type + (type == "xfs" ? " -f -q " : " -F -q ") + opts + " " + device +
               "\n";
    };
    std::string data_type = raid ? linux_raid_type : linux_fs_type;
    std::string script =
        "set -e\n"
        // libguestfs puts drive N at SCSI target N (and its own disk after them).
        "disk() { d=$(ls /sys/class/scsi_disk/*:0:$1:0/device/block/ 2>/dev/null | head -n "
        "1)\n"
        "  [ -n \"$d\" ] || { echo \"no disk at SCSI target $1\" >&2; exit 1; }\n"
        "  echo \"airstrap-disk /dev/$d\" >&2; echo /dev/$d; }\n"
        "part() { sgdisk --zap-all $1 >/dev/null\n"
        "  sgdisk -a 2048 -n 1:2048:+1M -t 1:" +
        std::string(bios_boot_type) +
        " -c 1:biosboot"
        " -n 2:0:+200M -t 2:" +
        esp_type +
        " -c '2:EFI System Partition'"
        " -n 3:0:+1G -t 3:" +
        data_type +
        " -c 3:boot"
        " -n 4:0:0 -t 4:" +
        data_type + " -c 4:root $1 >/dev/null; }\n";
    std::vector<std::string> vars;
    for (std::size_t i = 0; i < disks.size(); ++i) {
        vars.push_back("${d" + std::to_string(i) + "}");
        script += "d" + std::to_string(i) + "=$(disk " + std::to_string(first + i) + ")\n";
    }
    for (const auto& v : vars) script += "part " + v + "\n";
    script += "udevadm settle\n";
    std::string esp = vars[0] + "2", boot = vars[0] + "3", root = vars[0] + "4";
    if (raid) {
        auto members = [&](int partition) {
            std::string out;
            for (const auto& v : vars) out += " " + v + std::to_string(partition);
            return out;
        };
        std::string n = std::to_string(disks.size());
        int md = 0;
        for (auto [name, partition, metadata] :
             {std::tuple<const char*, int, const char*>{"esp", 2, "1.0"},
              {"boot", 3, "1.2"},
              {"root", 4, "1.2"}}) {
            std::string dev = "/dev/md" + std::to_string(md++);
            script += "mdadm --create " + dev +
                      " --run --assume-clean --level=1 --metadata=" + metadata +
                      " --raid-devices=" + n + " --name=" + name + " --homehost=any" +
                      members(partition) + " </dev/null >/dev/null\n";
            script += "echo \"airstrap-md $(mdadm --detail --export " + dev +
                      " | sed -n 's/^MD_UUID=//p')\" >&2\n";
        }
        esp = "/dev/md0", boot = "/dev/md1", root = "/dev/md2";
    }
    script += "mkfs.vfat -F 32 -n EFI " + esp + " >/dev/null\n" + mkfs(profile.boot_fs, boot) +
              mkfs(profile.root_fs, root) + "echo airstrap-format-ok >&2\n";
    // guestfs_debug sh returns stdout; the markers go to stderr, joined in by 2>&1.
    script = "{\n" + script + "} 2>&1\n";
    char* args[] = {const_cast<char*>(script.c_str()), nullptr};
    std::string out =
        g.take(guestfs_debug(g.h(), "sh", args), "partitioning " + text::join(disks, ", "));
    if (out.find("airstrap-format-ok") == std::string::npos)
        throw Error("partitioning and mkfs of " + text::join(disks, ", ") + " failed: " + out);
    NodeDisks nd;
    for (const auto& line : text::split(out, '\n')) {
        if (line.starts_with("airstrap-disk /dev/"))
            nd.l.kernel_disks.push_back(text::trim(line.substr(14)));
        if (line.starts_with("airstrap-md ")) nd.l.md_uuids.push_back(text::trim(line.substr(12)));
    }
    if (nd.l.kernel_disks.size() != disks.size())
        throw Error("the appliance did not say which disks are " + text::join(disks, ", "));
    if (raid &&
        (nd.l.md_uuids.size() != 3 || std::any_of(nd.l.md_uuids.begin(), nd.l.md_uuids.end(),
                                                  [](const std::string& u) { return u.empty(); })))
        throw Error("mdadm made no RAID1 arrays on " + text::join(disks, ", ") + ": " + out);
    // libguestfs's names: the first disk's partitions, or the arrays.
    nd.l.esp = raid ? "/dev/md0" : disks[0] + "2";
    nd.l.boot = raid ? "/dev/md1" : disks[0] + "3";
    nd.l.root = raid ? "/dev/md2" : disks[0] + "4";
    // Closing a freshly made file system makes udev re-read the partition table, and the
    // partitions vanish for a moment (longer with several disks): read the table once
    // more, which libguestfs follows with a udev settle, and retry briefly.
    for (const auto& [part, device] : {std::pair<const char*, std::string>{"esp", nd.l.esp},
                                       {"boot", nd.l.boot},
                                       {"root", nd.l.root}}) {
        for (int attempt = 1;; ++attempt) {
            if (char* uuid = guestfs_vfs_uuid(g.h(), device.c_str())) {
                nd.uuids[part] = g.take(uuid, "uuid of " + device);
                break;
            }
            if (attempt == 20) g.fail("uuid of " + device);
            for (const auto& d : disks) guestfs_blockdev_rereadpt(g.h(), d.c_str());
            ::usleep(250 * 1000);
        }
        if (nd.uuids[part].empty())
            throw Error("no UUID on the " + std::string(part) + " partition " + device);
    }
    return nd;
}

// A node's image in the appliance, from its role's staged tree: mount its file systems, copy
// the tree in, then the node's own files, then the target's bootloader commands.
class ImageBuild {
  public:
    ImageBuild(const site::Site& site, const site::Secrets& secrets, const Profile& profile,
               Guest& g, Steps& steps)
        : site_(site), secrets_(secrets), profile_(profile), g_(g), steps_(steps) {}

    Qcow2Image build(const std::string& node, const NodeDisks& disks, const StagedTree& tree,
                     const fs::path& scratch) {
        auto t0 = Clock::now();
        Qcow2Image image;
        image.node = node;
        image.kernel = tree.kernel;
        image.packages = tree.packages;
        image.installed_bytes = tree.installed_bytes;
        steps_.run(node, "mount", [&] { mount(disks.l); });
        steps_.run(node,
                   "copy its role's tree in (" + std::to_string(tree.tar_bytes >> 20) + " MiB)",
                   [&] {
                       g_.check(guestfs_tar_in_opts(g_.h(), tree.tar.c_str(), "/",
                                                    GUESTFS_TAR_IN_OPTS_XATTRS, 1, -1),
                                "copy " + tree.tar.string() + " in");
                   });
        kickstart::NodeSetup setup = kickstart::node_setup(site_, secrets_, node);
        steps_.run(node, "node configuration (" + setup.fqdn + ")",
                   [&] { configure(node, setup, disks, tree, scratch); });
        steps_.run(node, "bootloader", [&] { bootloader(disks, tree.kernel); });
        g_.check(guestfs_umount_all(g_.h()), "unmount");
        image.seconds = since(t0);
        return image;
    }

  private:
    void mount(const Layout& l) {
        guestfs_h* h = g_.h();
        g_.check(guestfs_mount(h, l.root.c_str(), "/"), "mount root");
        g_.check(guestfs_mkdir_p(h, "/boot"), "mkdir /boot");
        g_.check(guestfs_mount(h, l.boot.c_str(), "/boot"), "mount /boot");
        g_.check(guestfs_mkdir_p(h, "/boot/efi"), "mkdir /boot/efi");
        g_.check(guestfs_mount(h, l.esp.c_str(), "/boot/efi"), "mount /boot/efi");
    }

    // Every file of the node's own configuration in one upload: a libguestfs call is a
    // round trip.
    void configure(const std::string& node, const kickstart::NodeSetup& s, const NodeDisks& d,
                   const StagedTree& tree, const fs::path& scratch) {
        std::vector<TarMember> files;
        auto add = [&](const std::string& path, const std::string& content, unsigned mode) {
            files.push_back({path, content, mode, TarMember::Kind::file});
        };
        files.push_back({"/etc/airstrap", "", 0700, TarMember::Kind::directory});
        add("/etc/hostname", s.fqdn + "\n", 0644);
        for (auto& f : kickstart::network_files(s.network,
                                                profile_.network == Profile::Network::ifcfg
                                                    ? kickstart::NetworkFiles::ifcfg
                                                    : kickstart::NetworkFiles::keyfile,
                                                site_.security.network_manager))
            add(f.path, f.content, f.mode);
        add("/etc/shadow", shadow_with_root_hash(tree.shadow, s.root_hash), tree.shadow_mode);
        for (const auto& f : s.files) {
            if (f.path.starts_with("/root/.ssh/"))
                files.push_back({"/root/.ssh", "", 0700, TarMember::Kind::directory});
            add(f.path, f.content, f.mode);
        }
        add("/etc/fstab",
            fstab_text(d.uuids.at("root"), profile_.root_fs, d.uuids.at("boot"), profile_.boot_fs,
                       d.uuids.at("esp")),
            0644);
        std::string cmdline = profile_.kernel_cmdline;
        if (!d.l.md_uuids.empty()) {
            // As Anaconda writes them for md: the arrays the initramfs assembles, and their
            // mdadm.conf (EL's path; Debian's mdadm reads it too). rd.retry=30: dracut starts
            // an array that misses a member after 2/3 of it, 20 s, not after two minutes (its
            // default 180): a node whose disk died comes up without an operator at its console.
            cmdline += " rd.retry=30";
            std::string conf =
                "# Written by airstrap (build qcow2)\nMAILADDR root\nAUTO +imsm +1.x -all\n";
            const char* names[] = {"esp", "boot", "root"};
            for (std::size_t i = 0; i < d.l.md_uuids.size(); ++i) {
                conf += "ARRAY /dev/md/" + std::string(names[i]) +
                        " level=raid1 num-devices=" + std::to_string(d.l.kernel_disks.size()) +
                        " UUID=" + d.l.md_uuids[i] + "\n";
                cmdline += " rd.md.uuid=" + d.l.md_uuids[i];
            }
            add("/etc/mdadm.conf", conf, 0644);
        }
        add("/etc/default/grub",
            profile_.grub_defaults + "GRUB_CMDLINE_LINUX=\"" + cmdline + "\"\n", 0644);
        fs::path tar = scratch / ("config-" + node + ".tar");
        write_tar(files, tar);
        g_.check(guestfs_tar_in(g_.h(), tar.c_str(), "/"), "upload the node's configuration");
        fs::remove(tar);
    }

    // A command naming {disk} runs for each disk (GRUB on every RAID1 member: the node boots
    // with either disk gone), the others once.
    void bootloader(const NodeDisks& d, const std::string& kver) {
        std::map<std::string, std::string> values = {{"kver", kver},
                                                     {"disk", d.l.kernel_disks.at(0)},
                                                     {"root_uuid", d.uuids.at("root")},
                                                     {"boot_uuid", d.uuids.at("boot")}};
        for (const auto& cmd : profile_.bootloader) {
            bool per_disk = std::any_of(cmd.begin(), cmd.end(), [](const std::string& a) {
                return a.find("{disk}") != std::string::npos;
            });
            for (const auto& disk : d.l.kernel_disks) {
                values["disk"] = disk;
                g_.command(fill_command(cmd, values));
                if (!per_disk) break;
            }
        }
    }

    const site::Site& site_;
    const site::Secrets& secrets_;
    const Profile& profile_;
    Guest& g_;
    Steps& steps_;
};

}  // namespace

fs::path qcow2_output_for(const Qcow2Options& options, const std::string& node) {
    if (options.nodes.size() == 1) return options.output;
    return options.output / (node + ".qcow2");
}

Qcow2Summary build_qcow2(const site::Site& site, const site::Secrets& secrets,
                         const Qcow2Options& options, CommandRunner& runner) {
    auto log = [&](const std::string& line) {
        if (options.log) options.log(line);
    };
    // Everything that can be wrong with the input is found before the appliance starts.
    if (options.nodes.empty()) throw InputError("no node to build an image for");
    for (const auto& node : options.nodes) kickstart::node_setup(site, secrets, node);
    std::string profile_name = options.profile;
    if (profile_name.empty()) profile_name = site.qcow2.profile;
    if (profile_name.empty()) profile_name = site::to_string(site.distro);
    Profile profile = load_profile(profile_name);
    for (const auto& node : options.nodes) {
        // An image is its disks: a system layout (single, or RAID1 across its disk files)
        // is built, by the disks' order; which real disk each one is (by path, size or model)
        // is the kickstart's question. Images use plain partitions, LVM or not (as for a
        // single disk). Data volumes (Cinder's volume group, Nova's disk) are not built.
        for (const auto& n : site.nodes) {
            if (n.name != node || n.disks.data.empty()) continue;
            throw InputError("node " + node +
                             ": its disks have data volumes (disks.data: Cinder's volume group "
                             "or Nova's instances on their own disk); images of such nodes are "
                             "not built yet: install them with a kickstart");
        }
        // A network the profile's style cannot write (an ifcfg bond member by MAC only).
        try {
            kickstart::network_files(kickstart::node_setup(site, secrets, node).network,
                                     profile.network == Profile::Network::ifcfg
                                         ? kickstart::NetworkFiles::ifcfg
                                         : kickstart::NetworkFiles::keyfile,
                                     site.security.network_manager);
        } catch (const InputError&) {
            std::throw_with_nested(InputError("node " + node + ": profile " + profile.name +
                                              " cannot write its network"));
        }
    }
    if (!mirror::open_site_repo(site, options.repo, mirror::LockPolicy::optional).lock) {
        log("note: " + options.repo.string() +
            " has no airstrap.lock: not an 'airstrap mirror' output, its packages were not "
            "verified against one");
    }
    mirror::PackagePool pool;
    pool.add_repo(mirror::load_local_repo(options.repo));
    std::vector<const site::Node*> nodes;
    for (const auto& node : options.nodes) {
        for (const auto& n : site.nodes) {
            if (n.name == node) nodes.push_back(&n);
        }
    }
    std::map<site::Role, bool> roles;  // role → some node of it has RAID1 (mdadm)
    for (const site::Node* n : nodes) roles[n->role] |= disks_of(*n) > 1;
    for (auto [role, raid] : roles) {
        ImagePackages wanted = image_packages(site, role, profile);
        if (raid) wanted.install.push_back("mdadm");
        mirror::ClosureRequest request{wanted.install, {}, wanted.exclude, false};
        try {
            pool.closure(request);
        } catch (const InputError&) {
            std::throw_with_nested(InputError(
                "the repository " + options.repo.string() + " cannot give the " +
                site::to_string(role) + " image of profile " + profile.name + " its packages"));
        }
    }
    int size_gib = options.size_gib.value_or(site.qcow2.size_gib);
    bool compress = options.compress.value_or(site.qcow2.compress);

    // Checked before anything is written: the tree is put together on this host.
    if (std::string why = staging_unavailable(); !why.empty()) throw Error(why);
    // The initramfs is made once per role's tree, before any disk exists.
    try {
        fill_command(profile.initramfs, {{"kver", "VERSION"}});
    } catch (const InputError&) {
        std::throw_with_nested(InputError(
            "profile " + profile.name +
            ": its initramfs command runs once per role's tree, before the disks exist: it may "
            "name {kver} only"));
    }

    PendingOutputs pending;
    Qcow2Summary summary;
    summary.profile = profile.name;
    fs::path first_parent = fs::absolute(qcow2_output_for(options, options.nodes[0])).parent_path();
    fs::create_directories(first_parent);
    TempDir scratch(first_parent, ".airstrap-qcow2-");
    Steps steps(options.log);
    Guest g;
    std::vector<std::size_t> first_drive;  // per node: its first drive's index
    for (const site::Node* n : nodes) {
        first_drive.push_back(pending.files.size());
        fs::path final_first = fs::absolute(qcow2_output_for(options, n->name));
        for (std::size_t d = 0; d < disks_of(*n); ++d) {
            fs::path final_path = disk_file(final_first, d);
            fs::path temp = scratch.path() / final_path.filename();
            pending.files.emplace_back(temp, final_path);
            g.check(guestfs_disk_create(g.h(), temp.c_str(), "qcow2",
                                        static_cast<std::int64_t>(size_gib) << 30, -1),
                    "create " + temp.string());
            g.check(guestfs_add_drive_opts(g.h(), temp.c_str(), GUESTFS_ADD_DRIVE_OPTS_FORMAT,
                                           "qcow2", -1),
                    "add " + temp.string());
        }
    }
    long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
    guestfs_set_smp(g.h(), static_cast<int>(std::clamp(cpus, 1L, 4L)));
    guestfs_set_memsize(g.h(), 1024);
    // Each role's tree once, for all its nodes, put together by a second thread in the order
    // the nodes need them, while this one starts the appliance and partitions every node's
    // disks; each node's image is built as soon as its tree is ready.
    std::vector<std::pair<TreeKey, std::string>> keys;  // each tree once, with its first node
    for (const site::Node* n : nodes) {
        TreeKey key{n->role, disks_of(*n) > 1};
        if (std::none_of(keys.begin(), keys.end(), [&](const auto& k) { return k.first == key; }))
            keys.emplace_back(key, n->name);
    }
    std::vector<std::promise<StagedTree>> promised(keys.size());
    std::map<TreeKey, std::shared_future<StagedTree>> trees;
    for (std::size_t i = 0; i < keys.size(); ++i)
        trees[keys[i].first] = promised[i].get_future().share();
    std::atomic<bool> appliance_failed{false};
    auto staging = std::async(std::launch::async, [&] {
        TreeStager stager(site, secrets, profile, options, pool, steps);
        for (std::size_t i = 0; i < keys.size(); ++i) {
            try {
                if (appliance_failed) throw Error("not staged: the appliance failed");
                promised[i].set_value(stager.stage(keys[i].first, keys[i].second, scratch.path()));
            } catch (...) {
                for (std::size_t j = i; j < keys.size(); ++j)
                    promised[j].set_exception(std::current_exception());
                return;
            }
        }
    });
    // Declared after `staging`, so destroyed first: on an error here the staging thread stops
    // after its current tree, and `staging`'s destructor waits for it.
    struct OnError {
        std::atomic<bool>& failed;
        ~OnError() { failed = true; }
    } on_error{appliance_failed};

    auto t = Clock::now();
    g.check(guestfs_launch(g.h()), "start the libguestfs appliance");
    summary.launch_seconds = since(t);
    steps.log("libguestfs appliance up (" + fixed(summary.launch_seconds) + " s), profile " +
              profile.name + " from " + profile.source);
    std::vector<std::string> devices = g.take(guestfs_list_devices(g.h()), "list devices");
    if (devices.size() != pending.files.size())
        throw Error("libguestfs shows " + std::to_string(devices.size()) + " disks for " +
                    std::to_string(pending.files.size()) + " disk files");
    std::vector<NodeDisks> disks;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        std::size_t first = first_drive[i], count = disks_of(*nodes[i]);
        std::vector<std::string> drives(
            devices.begin() + static_cast<std::ptrdiff_t>(first),
            devices.begin() + static_cast<std::ptrdiff_t>(first + count));
        std::string what = count == 1
                               ? "partition " + drives[0] + " (GPT: BIOS boot, ESP, /boot, root)"
                               : "partition " + text::join(drives, ", ") +
                                     " alike, RAID1 arrays of their ESP (metadata 1.0), /boot "
                                     "and root";
        steps.run(nodes[i]->name,
                  what + " and make " + profile.boot_fs + "/" + profile.root_fs + " file systems",
                  [&] { disks.push_back(partition_and_format(g, profile, drives, first)); });
    }
    ImageBuild build(site, secrets, profile, g, steps);
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        const StagedTree& tree = trees.at({nodes[i]->role, disks_of(*nodes[i]) > 1}).get();
        Qcow2Image image = build.build(nodes[i]->name, disks[i], tree, scratch.path());
        for (std::size_t d = 0; d < disks_of(*nodes[i]); ++d)
            image.disks.push_back(pending.files[first_drive[i] + d].second);
        image.path = image.disks[0];
        image.virtual_bytes = static_cast<std::uint64_t>(size_gib) << 30;
        summary.images.push_back(image);
    }
    staging.get();
    g.check(guestfs_shutdown(g.h()), "shut the appliance down (flushing the images)");
    for (std::size_t i = 0; i < pending.files.size(); ++i) {
        auto& [temp, final_path] = pending.files[i];
        if (compress) {
            fs::path packed = temp.string() + ".packed";
            ProcessResult r = runner.run(
                {"qemu-img", "convert", "-c", "-O", "qcow2", temp.string(), packed.string()});
            if (r.exit_code != 0)
                throw Error("qemu-img convert -c of " + final_path.filename().string() +
                            " failed: " + r.output);
            fs::rename(packed, temp);
        }
        // The image holds the node's key (the controller's: the site secret and every
        // password), on every RAID1 member: readable by its owner only.
        fs::permissions(temp, fs::perms::owner_read | fs::perms::owner_write);
    }
    for (auto& image : summary.images) {
        for (const auto& d : image.disks) {
            for (const auto& [temp, final_path] : pending.files) {
                if (final_path == d) image.file_bytes += fs::file_size(temp);
            }
        }
    }
    // Every image is complete: now they replace what was there.
    for (const auto& [temp, final_path] : pending.files) fs::rename(temp, final_path);
    pending.committed = true;
    return summary;
}

}  // namespace airstrap::builder
