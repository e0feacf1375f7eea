#include "builder/qcow2.hpp"

#include <archive_entry.h>
#include <guestfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <set>

#include "builder/guest.hpp"
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

double since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string fixed(double v, int digits = 1) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

// The payloads of `rpms` as one tar file: what the image needs before its own rpm can run.
void payloads_to_tar(const std::vector<fs::path>& rpms, const fs::path& tar) {
    const std::string cannot_write = "cannot write " + tar.string() + ": ";
    mirror::ArchiveWriter out;
    out.open_file(tar, cannot_write);
    std::vector<char> buf(1 << 16);
    for (const auto& rpm : rpms) {
        mirror::ArchiveReader in(mirror::ArchiveReader::cpio);
        in.open_file(rpm, 1 << 16, "cannot read the payload of " + rpm.string() + ": ");
        const std::string damaged = "the payload of " + rpm.string() + " is damaged: ";
        while (archive_entry* e = in.next(damaged)) {
            out.write_header(e, "cannot add " + std::string(archive_entry_pathname(e)) + " of " +
                                    rpm.string() + ": ");
            while (std::size_t n = in.read(buf.data(), buf.size(), damaged))
                out.write_data(buf.data(), n, cannot_write);
        }
    }
    out.close(cannot_write);
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

// Partitions by libguestfs's names (which its API calls translate), and the disk by the
// appliance kernel's own name, which commands run in the appliance or the image need: the
// kernel names disks in the order its SCSI scan finishes, so the appliance's own disk may be
// sda and ours sdb.
struct Layout {
    std::string disk, bios, esp, boot, root;
    std::string kernel_disk;
};

class ImageBuild {
  public:
    ImageBuild(const site::Site& site, const site::Secrets& secrets, const Profile& profile,
               const Qcow2Options& options, Guest& g, mirror::PackagePool& pool)
        : site_(site),
          secrets_(secrets),
          profile_(profile),
          options_(options),
          g_(g),
          pool_(pool) {}

    Qcow2Image build(const std::string& node, const std::string& disk, std::size_t index,
                     const fs::path& scratch) {
        auto t0 = Clock::now();
        node_ = node;
        const site::Node* n = nullptr;
        for (const auto& x : site_.nodes) {
            if (x.name == node) n = &x;
        }
        Qcow2Image image;
        image.node = node;
        step("partition " + disk + " (GPT: BIOS boot, ESP, /boot, root) and make " +
                 profile_.boot_fs + "/" + profile_.root_fs + " file systems",
             [&] { partition_and_format(disk, index); });
        step("mount", [&] { mount(); });
        ImagePackages wanted = image_packages(site_, n->role, profile_);
        mirror::ClosureRequest request;
        request.install = wanted.install;
        request.exclude = wanted.exclude;
        request.weak_deps = false;
        std::vector<mirror::PackageRef> closure = pool_.closure(request);
        mirror::ClosureRequest boot_request;
        boot_request.install = profile_.bootstrap;
        boot_request.exclude = wanted.exclude;
        boot_request.weak_deps = false;
        std::vector<mirror::PackageRef> bootstrap = pool_.closure(boot_request);
        step("unpack " + std::to_string(bootstrap.size()) + " bootstrap packages (" +
                 text::join(profile_.bootstrap, ", ") + ")",
             [&] { unpack(bootstrap, scratch); });
        step("bake the site repository into " + std::string(node::repository_dir),
             [&] { bake_repo(); });
        step("rpm -i " + std::to_string(closure.size()) + " packages with the image's own rpm",
             [&] { install(closure); });
        kickstart::NodeSetup setup = kickstart::node_setup(site_, secrets_, node);
        step("node configuration (" + setup.fqdn + ")", [&] { configure(setup, scratch); });
        step("initramfs and bootloader", [&] { image.kernel = boot(); });
        step("sysprep (no machine-id, no SSH host keys)", [&] { sysprep(setup); });
        std::string sizes = g_.command({"rpm", "-qa", "--qf", "%{SIZE}\\n"});
        for (const auto& line : text::split(sizes, '\n')) {
            if (auto v = text::parse_int(text::trim(line))) {
                image.installed_bytes += static_cast<std::uint64_t>(*v);
                ++image.packages;
            }
        }
        g_.check(guestfs_umount_all(g_.h()), "unmount");
        image.seconds = since(t0);
        return image;
    }

  private:
    void log(const std::string& line) {
        if (options_.log) options_.log(line);
    }
    template <typename Fn>
    void step(const std::string& what, Fn fn) {
        auto t = Clock::now();
        try {
            fn();
        } catch (const InputError&) {
            throw;
        } catch (const std::exception&) {
            std::throw_with_nested(Error("qcow2 of " + node_ + ": " + what));
        }
        log(node_ + ": " + what + " (" + fixed(since(t)) + " s)");
    }

    // One shell script in the appliance: each libguestfs call costs a round trip (a second
    // or more under TCG), and libguestfs's mkfs passes no mkfs.xfs -m/-i options, without
    // which an older target kernel (EL7's 3.10) refuses the file system.
    void partition_and_format(const std::string& disk, std::size_t index) {
        l_ = {disk, disk + "1", disk + "2", disk + "3", disk + "4", ""};
        auto mkfs = [&](const std::string& type, const std::string& part) {
            auto it = profile_.mkfs_options.find(type);
            std::string opts = it == profile_.mkfs_options.end() ? "" : it->second;
            return "mkfs." + type + (type == "xfs" ? " -f -q " : " -F -q ") + opts + " ${d}" +
                   part + "\n";
        };
        // libguestfs puts drive N at SCSI target N (and its own disk after them).
        std::string target = std::to_string(index);
        std::string script =
            "set -e\n"
            "d=$(ls /sys/class/scsi_disk/*:0:" +
            target +
            ":0/device/block/ 2>/dev/null | head -n 1)\n"
            "[ -n \"$d\" ] || { echo 'no disk at SCSI target " +
            target +
            "' >&2; exit 1; }\n"
            "d=/dev/$d\n"
            "echo \"airstrap-disk $d\"\n"
            "sgdisk --zap-all $d >/dev/null\n"
            "sgdisk -a 2048 -n 1:2048:+1M -t 1:" +
            bios_boot_type +
            " -c 1:biosboot"
            " -n 2:0:+200M -t 2:" +
            esp_type +
            " -c '2:EFI System Partition'"
            " -n 3:0:+1G -t 3:" +
            linux_fs_type +
            " -c 3:boot"
            " -n 4:0:0 -t 4:" +
            linux_fs_type +
            " -c 4:root $d >/dev/null\n"
            "udevadm settle\n"
            "mkfs.vfat -F 32 -n EFI ${d}2 >/dev/null\n" +
            mkfs(profile_.boot_fs, "3") + mkfs(profile_.root_fs, "4") + "echo airstrap-format-ok\n";
        char* args[] = {const_cast<char*>(script.c_str()), nullptr};
        std::string out = g_.take(guestfs_debug(g_.h(), "sh", args), "partitioning " + disk);
        if (out.find("airstrap-format-ok") == std::string::npos)
            throw Error("partitioning and mkfs of " + disk + " failed: " + out);
        for (const auto& line : text::split(out, '\n')) {
            if (line.starts_with("airstrap-disk /dev/"))
                l_.kernel_disk = text::trim(line.substr(14));
        }
        if (l_.kernel_disk.empty()) throw Error("the appliance did not say which disk is " + disk);
        // Closing a freshly made file system makes udev re-read the partition table, and the
        // partitions vanish for a moment (longer with several disks): read the table once
        // more, which libguestfs follows with a udev settle, and retry briefly.
        uuids_.clear();
        for (const auto& [part, device] : {std::pair<const char*, std::string>{"esp", l_.esp},
                                           {"boot", l_.boot},
                                           {"root", l_.root}}) {
            for (int attempt = 1;; ++attempt) {
                if (char* uuid = guestfs_vfs_uuid(g_.h(), device.c_str())) {
                    uuids_[part] = g_.take(uuid, "uuid of " + device);
                    break;
                }
                if (attempt == 20) g_.fail("uuid of " + device);
                guestfs_blockdev_rereadpt(g_.h(), disk.c_str());
                ::usleep(250 * 1000);
            }
            if (uuids_[part].empty())
                throw Error("no UUID on the " + std::string(part) + " partition " + device);
        }
    }

    void mount() {
        guestfs_h* h = g_.h();
        g_.check(guestfs_mount(h, l_.root.c_str(), "/"), "mount root");
        g_.check(guestfs_mkdir_p(h, "/boot"), "mkdir /boot");
        g_.check(guestfs_mount(h, l_.boot.c_str(), "/boot"), "mount /boot");
        g_.check(guestfs_mkdir_p(h, "/boot/efi"), "mkdir /boot/efi");
        g_.check(guestfs_mount(h, l_.esp.c_str(), "/boot/efi"), "mount /boot/efi");
    }

    void unpack(const std::vector<mirror::PackageRef>& packages, const fs::path& scratch) {
        std::vector<fs::path> rpms;
        for (const auto& p : packages) rpms.push_back(options_.repo / p.location);
        fs::path tar = scratch / ("bootstrap-" + node_ + ".tar");
        payloads_to_tar(rpms, tar);
        g_.check(guestfs_tar_in(g_.h(), tar.c_str(), "/"), "upload the bootstrap payloads");
        fs::remove(tar);
    }

    void bake_repo() {
        guestfs_h* h = g_.h();
        std::string target = node::repository_dir;
        std::string parent = fs::path(target).parent_path().string();
        g_.check(guestfs_mkdir_p(h, parent.c_str()), "mkdir " + parent);
        fs::path src = fs::absolute(options_.repo).lexically_normal();
        if (src.filename().empty()) src = src.parent_path();
        g_.check(guestfs_copy_in(h, src.c_str(), parent.c_str()), "copy " + src.string());
        std::string copied = parent + "/" + src.filename().string();
        if (copied != target)
            g_.check(guestfs_mv(h, copied.c_str(), target.c_str()), "mv " + copied);
    }

    void install(const std::vector<mirror::PackageRef>& packages) {
        std::vector<std::string> argv = {"rpm", "-i", "--nosignature"};
        for (const auto& p : packages)
            argv.push_back(std::string(node::repository_dir) + "/" + p.location);
        g_.command(argv);
    }

    // Every file of the node's configuration in one upload, then one script in the image for
    // its services and removals: a libguestfs call is a round trip.
    void configure(const kickstart::NodeSetup& s, const fs::path& scratch) {
        std::vector<TarMember> files;
        auto add = [&](const std::string& path, const std::string& content, unsigned mode) {
            files.push_back({path, content, mode, TarMember::Kind::file});
        };
        files.push_back({"/etc/airstrap", "", 0700, TarMember::Kind::directory});
        add("/etc/hostname", s.fqdn + "\n", 0644);
        bool nm = site_.security.network_manager;
        for (auto& f : kickstart::network_files(s.network,
                                                profile_.network == Profile::Network::ifcfg
                                                    ? kickstart::NetworkFiles::ifcfg
                                                    : kickstart::NetworkFiles::keyfile,
                                                nm))
            add(f.path, f.content, f.mode);
        if (profile_.selinux_config)
            add("/etc/selinux/config", kickstart::selinux_config_text(s.selinux), 0644);
        if (g_.exists("/usr/share/zoneinfo/" + s.timezone)) {
            files.push_back({"/etc/localtime", "../usr/share/zoneinfo/" + s.timezone, 0777,
                             TarMember::Kind::symlink});
        }
        if (!s.rtc_utc) add("/etc/adjtime", "0.0 0 0.0\n0\nLOCAL\n", 0644);
        add("/etc/locale.conf", "LANG=" + s.language + "\n", 0644);
        add("/etc/vconsole.conf", "KEYMAP=" + s.keymap + "\n", 0644);
        // Root's hash, keeping /etc/shadow's mode.
        auto st = guestfs_statns(g_.h(), "/etc/shadow");
        if (!st) g_.fail("stat /etc/shadow");
        unsigned shadow_mode = static_cast<unsigned>(st->st_mode) & 07777;
        guestfs_free_statns(st);
        add("/etc/shadow", shadow_with_root_hash(g_.read("/etc/shadow"), s.root_hash), shadow_mode);
        for (const auto& f : s.files) {
            if (f.path.starts_with("/root/.ssh/"))
                files.push_back({"/root/.ssh", "", 0700, TarMember::Kind::directory});
            add(f.path, f.content, f.mode);
        }
        add("/etc/fstab",
            fstab_text(uuids_.at("root"), profile_.root_fs, uuids_.at("boot"), profile_.boot_fs,
                       uuids_.at("esp")),
            0644);
        add("/etc/default/grub",
            profile_.grub_defaults + "GRUB_CMDLINE_LINUX=\"" + profile_.kernel_cmdline + "\"\n",
            0644);
        fs::path tar = scratch / ("config-" + node_ + ".tar");
        write_tar(files, tar);
        g_.check(guestfs_tar_in(g_.h(), tar.c_str(), "/"), "upload the node's configuration");
        fs::remove(tar);
        std::string out = g_.command({"sh", "-c", services_script(s)});
        for (const auto& line : text::split(out, '\n')) {
            if (!text::trim(line).empty()) log(node_ + ": " + text::trim(line));
        }
    }

    std::string kernel_version() {
        std::string dir = g_.is_dir("/usr/lib/modules") ? "/usr/lib/modules" : "/lib/modules";
        std::vector<std::string> versions;
        if (g_.is_dir(dir)) {
            for (const auto& v : g_.take(guestfs_ls(g_.h(), dir.c_str()), "ls " + dir)) {
                if (g_.exists("/boot/vmlinuz-" + v)) versions.push_back(v);
            }
        }
        if (versions.empty())
            throw InputError("the image has no kernel (no /boot/vmlinuz-VERSION with " + dir +
                             "/VERSION): does profile " + profile_.name +
                             " list the kernel package?");
        std::sort(versions.begin(), versions.end());
        return versions.back();
    }

    std::string boot() {
        std::string kver = kernel_version();
        std::map<std::string, std::string> values = {{"kver", kver},
                                                     {"disk", l_.kernel_disk},
                                                     {"root_uuid", uuids_.at("root")},
                                                     {"boot_uuid", uuids_.at("boot")}};
        g_.command(fill_command(profile_.initramfs, values));
        for (const auto& cmd : profile_.bootloader) g_.command(fill_command(cmd, values));
        return kver;
    }

    void sysprep(const kickstart::NodeSetup& s) {
        guestfs_h* h = g_.h();
        // An empty machine-id: systemd makes the node's own at first boot.
        if (g_.exists("/etc/machine-id")) g_.write("/etc/machine-id", "", 0444);
        for (const auto& key : g_.take(guestfs_glob_expand(h, "/etc/ssh/ssh_host_*"), "glob"))
            g_.check(guestfs_rm_f(h, key.c_str()), "rm " + key);
        for (const char* p :
             {"/var/lib/systemd/random-seed", "/root/.bash_history", "/var/lib/rpm/__db.001",
              "/var/lib/rpm/__db.002", "/var/lib/rpm/__db.003"})
            g_.check(guestfs_rm_f(h, p), std::string("rm ") + p);
        for (const char* cache : {"/var/cache/yum", "/var/cache/dnf"}) {
            if (g_.is_dir(cache)) g_.check(guestfs_rm_rf(h, cache), std::string("rm ") + cache);
        }
        if (profile_.selinux_config && s.selinux != site::Selinux::disabled)
            g_.check(guestfs_touch(h, "/.autorelabel"), "touch /.autorelabel");
    }

    const site::Site& site_;
    const site::Secrets& secrets_;
    const Profile& profile_;
    const Qcow2Options& options_;
    Guest& g_;
    mirror::PackagePool& pool_;
    std::string node_;
    Layout l_;
    std::map<std::string, std::string> uuids_;  // esp, boot, root
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
        for (const auto& n : site.nodes) {
            if (n.name != node || n.disks.is_simple()) continue;
            throw InputError("node " + node +
                             ": an image has one disk, and its disks are not one system disk "
                             "with LVM (disks.layout, lvm, data or a disk found by size and "
                             "model); images of such nodes are not built yet: install them "
                             "with a kickstart");
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
    std::set<site::Role> roles;
    for (const auto& node : options.nodes) {
        for (const auto& n : site.nodes) {
            if (n.name == node) roles.insert(n.role);
        }
    }
    for (site::Role role : roles) {
        ImagePackages wanted = image_packages(site, role, profile);
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

    PendingOutputs pending;
    Qcow2Summary summary;
    summary.profile = profile.name;
    fs::path first_parent = fs::absolute(qcow2_output_for(options, options.nodes[0])).parent_path();
    fs::create_directories(first_parent);
    TempDir scratch(first_parent, ".airstrap-qcow2-");
    Guest g;
    for (const auto& node : options.nodes) {
        fs::path final_path = fs::absolute(qcow2_output_for(options, node));
        fs::path temp = scratch.path() / (node + ".qcow2");
        pending.files.emplace_back(temp, final_path);
        g.check(guestfs_disk_create(g.h(), temp.c_str(), "qcow2",
                                    static_cast<std::int64_t>(size_gib) << 30, -1),
                "create " + temp.string());
        g.check(
            guestfs_add_drive_opts(g.h(), temp.c_str(), GUESTFS_ADD_DRIVE_OPTS_FORMAT, "qcow2", -1),
            "add " + temp.string());
    }
    auto t = Clock::now();
    long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
    guestfs_set_smp(g.h(), static_cast<int>(std::clamp(cpus, 1L, 4L)));
    guestfs_set_memsize(g.h(), 1024);
    g.check(guestfs_launch(g.h()), "start the libguestfs appliance");
    summary.launch_seconds = since(t);
    log("libguestfs appliance up (" + fixed(summary.launch_seconds) + " s), profile " +
        profile.name + " from " + profile.source);
    std::vector<std::string> devices = g.take(guestfs_list_devices(g.h()), "list devices");
    if (devices.size() != options.nodes.size())
        throw Error("libguestfs shows " + std::to_string(devices.size()) + " disks for " +
                    std::to_string(options.nodes.size()) + " images");
    ImageBuild build(site, secrets, profile, options, g, pool);
    for (std::size_t i = 0; i < options.nodes.size(); ++i) {
        Qcow2Image image = build.build(options.nodes[i], devices[i], i, scratch.path());
        image.path = pending.files[i].second;
        image.virtual_bytes = static_cast<std::uint64_t>(size_gib) << 30;
        summary.images.push_back(image);
    }
    g.check(guestfs_shutdown(g.h()), "shut the appliance down (flushing the images)");
    for (std::size_t i = 0; i < pending.files.size(); ++i) {
        auto& [temp, final_path] = pending.files[i];
        if (compress) {
            fs::path packed = temp.string() + ".packed";
            ProcessResult r = runner.run(
                {"qemu-img", "convert", "-c", "-O", "qcow2", temp.string(), packed.string()});
            if (r.exit_code != 0)
                throw Error("qemu-img convert -c of " + options.nodes[i] + " failed: " + r.output);
            fs::rename(packed, temp);
        }
        summary.images[i].file_bytes = fs::file_size(temp);
        // The image holds the node's key (the controller's: the site secret and every
        // password): readable by its owner only.
        fs::permissions(temp, fs::perms::owner_read | fs::perms::owner_write);
    }
    // Every image is complete: now they replace what was there.
    for (const auto& [temp, final_path] : pending.files) fs::rename(temp, final_path);
    pending.committed = true;
    return summary;
}

}  // namespace airstrap::builder
