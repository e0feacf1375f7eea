// The PXE tree on disk (`airstrap build pxe`): the vendor tree, boot loaders, the configs of
// pxe_configs.cpp, the kickstarts and the site repository, swapped into place.
#include "builder/pxe.hpp"

#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "builder/media_sources.hpp"
#include "builder/vendor_media.hpp"
#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/text.hpp"
#include "kickstart/render.hpp"
#include "node/layout.hpp"
#include "repo-mirror/archive.hpp"

namespace airstrap::builder {

namespace fs = std::filesystem;

namespace {

constexpr const char* vendor_grub_efi = "EFI/BOOT/grubx64.efi";
// The modules a TFTP-loaded grub needs to read its config and boot Linux over the network.
const std::vector<std::string> grub_net_modules = {
    "normal", "configfile", "echo",   "test", "linux", "efinet", "net",     "tftp",
    "http",   "sleep",      "reboot", "halt", "gzio",  "regexp", "efi_gop", "all_video"};

void copy_file(const fs::path& from, const fs::path& to, mode_t mode) {
    AtomicFile out(to, mode);
    copy_file_into(out.fd(), from);
    out.commit();
}

// A hard link where the file system allows it, else a copy. True when linked.
bool link_or_copy(const fs::path& from, const fs::path& to) {
    if (::link(from.c_str(), to.c_str()) == 0) return true;
    if (errno != EXDEV && errno != EPERM && errno != EMLINK) {
        throw SystemError("cannot link " + from.string() + " to " + to.string(), errno);
    }
    copy_file(from, to, 0644);
    return false;
}

// repo.tar: the site repository for %post, written as the tree is linked.
class RepoTar {
  public:
    RepoTar(int fd, const fs::path& name) : where_(name.string() + ": ") { w_.open_fd(fd, where_); }
    void add_dir(const std::string& path) {
        mirror::ArchiveEntry e = entry(path, AE_IFDIR, 0755, 0);
        w_.write_header(e.get(), where_);
    }
    void add_file(const std::string& path, const fs::path& source) {
        auto size = static_cast<la_int64_t>(fs::file_size(source));
        mirror::ArchiveEntry e = entry(path, AE_IFREG, 0644, size);
        w_.write_header(e.get(), where_);
        for_each_block(source,
                       [&](const char* data, std::size_t n) { w_.write_data(data, n, where_); });
    }
    void close() { w_.close(where_); }

  private:
    static mirror::ArchiveEntry entry(const std::string& path, unsigned type, int mode,
                                      la_int64_t size) {
        mirror::ArchiveEntry e;
        archive_entry_set_pathname(e.get(), path.c_str());
        archive_entry_set_filetype(e.get(), type);
        archive_entry_set_perm(e.get(), static_cast<mode_t>(mode));
        archive_entry_set_size(e.get(), size);
        archive_entry_set_mtime(e.get(), 0, 0);
        return e;
    }
    std::string where_;  // the start of an error message
    mirror::ArchiveWriter w_;
};

}  // namespace

namespace {

std::string readme(const site::Site& site, const PxeOptions& o, const fs::path& dir,
                   const PxeSummary& s, const std::string& grub_note) {
    std::string r =
        "PXE install tree for site " + site.name + " (" + s.product +
        "), written by 'airstrap build pxe'.\n\n"
        "Serve it from a machine on the management network that has the address " +
        o.server_ip +
        ":\n\n"
        "    airstrap serve " +
        dir.string() +
        " --interface IF      # as root: DHCP uses port 67\n\n"
        "That runs dnsmasq (DHCP with static leases for the site's MACs + TFTP from tftp/, see\n"
        "dnsmasq.conf) and nginx (http/ on " +
        s.http_url +
        ", see nginx.conf) until Ctrl-C. By hand:\n\n"
        "    dnsmasq --keep-in-foreground --conf-file=" +
        (dir / "dnsmasq.conf").string() +
        " --interface IF\n"
        "    nginx -e stderr -p $(mktemp -d) -c " +
        (dir / "nginx.conf").string() +
        " -g 'daemon off;'\n\n"
        "If the site already has a DHCP server, point it at this host as next-server with boot\n"
        "file pxelinux.0 (BIOS) or grubx64.efi (UEFI) and run 'airstrap serve --http-only'\n"
        "plus a TFTP server on tftp/. Open 67/udp, 69/udp and " +
        std::to_string(o.http_port) +
        "/tcp.\n\n"
        "http/ks/nodes/NODE.ks is NODE's own kickstart: the root password hash and that node's\n"
        "key (the controller's: also the site secret and the deployment's passwords), 0600.\n"
        "There is no site.ks or role profile here (those carry several nodes' keys: removable\n"
        "media only). Serve this tree only on the isolated provisioning network. 'airstrap\n"
        "serve' refuses to run as root for a tree owned by root: give the tree to an\n"
        "unprivileged user (chown -R USER: DIR), which nginx's workers and dnsmasq run as.\n\n"
        "Boot loaders: BIOS pxelinux.0 (Debian's syslinux); UEFI grubx64.efi: " +
        grub_note + "\n\nEvery NIC the site lists boots its node directly:\n";
    for (const auto& m : s.per_mac) {
        r += "    " + m.mac + "  " + m.node + "  tftp/" + m.pxelinux_cfg + ", tftp/" + m.grub_cfg +
             "\n";
    }
    for (const auto& n : s.menu_only_nodes) {
        r += "    (no MAC)           " + n + "  choose it in the menu\n";
    }
    r += "Other machines get the menu (tftp/pxelinux.cfg/default, tftp/grub.cfg): one entry per\n"
         "node (http/ks/nodes/NODE.ks); its default boots the local disk.\n";
    return r;
}

}  // namespace

PxeSummary build_pxe(const site::Site& site, const site::Secrets& secrets, const PxeOptions& o,
                     CommandRunner& runner) {
    auto log = [&](const std::string& line) {
        if (o.log) o.log(line);
    };
    MediaSources sources(site, o.vendor_iso, o.repo);
    const fs::path& vendor_path = sources.vendor_path();
    if (o.http_port < 1 || o.http_port > 65535) {
        throw InputError("--http-port " + std::to_string(o.http_port) + " is not a TCP port");
    }
    check_server_ip(site, o.server_ip, o.allow_foreign_server_ip);
    sources.open_repo();
    for (const fs::path& p : {o.loaders.pxelinux, o.loaders.syslinux_modules / "ldlinux.c32"}) {
        if (!fs::is_regular_file(p)) {
            throw InputError(p.string() +
                             " is missing: install Debian's pxelinux and syslinux-common");
        }
    }

    sources.read_vendor(log);
    const VendorMedia& media = sources.vendor();
    for (const char* p : {pxeboot_kernel_path, pxeboot_initrd_path}) {
        if (!media.files.contains(p)) {
            throw InputError(vendor_path.string() + ": has no " + p +
                             ": cannot boot it over the network");
        }
    }
    PxeKernel kernel;
    if (media.isolinux_cfg) {
        kernel.bios = isolinux_default_entry(*media.isolinux_cfg,
                                             vendor_path.string() + ": " + isolinux_cfg_path);
    }
    if (media.grub_cfg) {
        kernel.uefi =
            grub_default_entry(*media.grub_cfg, vendor_path.string() + ": " + grub_cfg_path);
    }
    if (!media.isolinux_cfg) kernel.bios = kernel.uefi;
    if (!media.grub_cfg) kernel.uefi = kernel.bios;
    kernel.vendor_grub = media.files.contains(vendor_grub_efi);

    PxeSummary s;
    s.product = media.product.empty() ? media.volume_id : media.product;
    s.vendor_label = media.volume_id;
    s.http_url = http_root_url(o.server_ip, o.http_port);

    fs::path out = fs::absolute(o.output).lexically_normal();
    if (out.filename().empty()) out = out.parent_path();
    fs::path parent = out.parent_path();
    fs::create_directories(parent);
    remove_stale_outputs(parent, out.filename().string());
    TempDir staging(parent, out.filename().string() + ".staging");
    const fs::path& root = staging.path();
    ::chmod(root.c_str(), 0755);  // dnsmasq may run as another user; the kickstarts stay 0600
    fs::path tftp = root / "tftp", http = root / "http";
    fs::create_directories(tftp / "pxelinux.cfg");
    fs::create_directories(http / "ks");

    // The vendor DVD's whole tree: the install source (inst.repo) and the boot files.
    std::set<std::string> all;
    for (const auto& [p, size] : media.files) all.insert(p);
    log("extracting " + std::to_string(all.size()) + " files of " + vendor_path.string() +
        " into http/ (the install tree for inst.repo)");
    extract_files(media, all, http);
    s.vendor_files = all.size();
    fs::create_directories(tftp / "images" / "pxeboot");
    link_or_copy(http / pxeboot_kernel_path, tftp / pxeboot_kernel_path);
    link_or_copy(http / pxeboot_initrd_path, tftp / pxeboot_initrd_path);

    // Boot loaders.
    copy_file(o.loaders.pxelinux, tftp / "pxelinux.0", 0644);
    for (const char* m : {"ldlinux.c32", "menu.c32", "libutil.c32", "libcom32.c32"}) {
        fs::path from = o.loaders.syslinux_modules / m;
        if (fs::is_regular_file(from)) copy_file(from, tftp / m, 0644);
    }
    std::string grub_note;
    if (kernel.vendor_grub) {
        link_or_copy(http / vendor_grub_efi, tftp / "grubx64.efi");
        s.grub_source = "vendor";
        grub_note =
            "the vendor's (" + std::string(vendor_grub_efi) +
            " from the DVD, which Secure Boot firmware trusts through the vendor's shim). "
            "Its built-in prefix may point at /EFI/BOOT rather than the TFTP root, so the menu is "
            "also at tftp/EFI/BOOT/grub.cfg; both send a listed MAC to its grub.cfg-01-<mac>.";
    } else {
        if (!fs::is_directory(o.loaders.grub_modules)) {
            throw InputError(vendor_path.string() + " has no " + vendor_grub_efi + " and " +
                             o.loaders.grub_modules.string() +
                             " is missing: install Debian's grub-efi-amd64-bin for UEFI PXE");
        }
        std::vector<std::string> argv = {"grub-mkimage",
                                         "-O",
                                         "x86_64-efi",
                                         "-d",
                                         o.loaders.grub_modules.string(),
                                         "-o",
                                         (tftp / "grubx64.efi").string(),
                                         "-p",
                                         "(tftp)/"};
        argv.insert(argv.end(), grub_net_modules.begin(), grub_net_modules.end());
        run_checked(runner, argv);
        s.grub_source = "built";
        grub_note =
            "built here with grub-mkimage (Debian's grub-efi-amd64-bin, prefix (tftp)/), "
            "because the vendor DVD has no " +
            std::string(vendor_grub_efi) + "; it is not signed: turn Secure Boot off on the nodes.";
    }
    log("UEFI boot loader: " + grub_note);

    // Boot configs.
    PxeConfigs cfg =
        render_pxe_configs(site, kernel, o.server_ip, o.http_port, o.append, o.timeout_seconds);
    s.entries = cfg.plan.entries.size();
    write_file_atomic(tftp / "pxelinux.cfg" / "default", cfg.pxelinux_default, 0644);
    write_file_atomic(tftp / "grub.cfg", cfg.grub_default, 0644);
    if (kernel.vendor_grub) {
        fs::create_directories(tftp / "EFI" / "BOOT");
        write_file_atomic(tftp / "EFI" / "BOOT" / "grub.cfg", cfg.grub_default, 0644);
    }
    for (const auto& m : cfg.per_mac) {
        write_file_atomic(tftp / m.names.pxelinux_cfg, m.pxelinux, 0644);
        write_file_atomic(tftp / m.names.grub_cfg, m.grub, 0644);
        s.per_mac.push_back(m.names);
        log(m.names.node + ": " + m.names.mac + " boots it directly (tftp/" + m.names.pxelinux_cfg +
            ", tftp/" + m.names.grub_cfg + ")");
    }
    s.menu_only_nodes = cfg.menu_only_nodes;
    for (const auto& n : s.menu_only_nodes) {
        log(n +
            " has no MAC in the site file: it gets only menu entries (choose it in the PXE menu)");
    }

    // One kickstart per node (only its own credentials; the controller's also the site
    // secret and deploy.sealed), never site.ks or a role profile; then the site repository.
    for (const auto& p : kickstart::write_kickstarts(site, secrets, http / "ks",
                                                     kickstart::KickstartSet::per_node)) {
        s.kickstarts.push_back(fs::relative(p, http).generic_string());
    }
    fs::path repo_src = fs::absolute(o.repo);
    fs::path repo_dst = http / node::media_repo_dir;
    fs::path tar_path = http / (std::string(node::media_repo_dir) + ".tar");
    fs::create_directories(repo_dst);
    log("adding the site repository " + o.repo.string() + " (http/" + node::media_repo_dir +
        " and " + node::media_repo_dir + ".tar)");
    std::vector<std::pair<std::string, fs::path>> files;
    std::vector<std::string> dirs;
    for (auto it = fs::recursive_directory_iterator(repo_src);
         it != fs::recursive_directory_iterator(); ++it) {
        std::string rel = fs::relative(it->path(), repo_src).generic_string();
        if (it->is_directory()) {
            fs::create_directories(repo_dst / rel);
            dirs.push_back(rel);
        } else if (it->is_regular_file()) {
            files.emplace_back(rel, it->path());
        }
    }
    std::sort(dirs.begin(), dirs.end());
    std::sort(files.begin(), files.end());
    {
        AtomicFile tar(tar_path, 0644);
        RepoTar w(tar.fd(), tar_path);
        for (const auto& d : dirs) w.add_dir(d);
        for (const auto& [rel, from] : files) {
            if (link_or_copy(from, repo_dst / rel)) ++s.repo_hard_links;
            w.add_file(rel, from);
        }
        w.close();
        tar.commit();
    }
    s.repo_files = files.size();

    write_file_atomic(root / "dnsmasq.conf", render_dnsmasq_conf(site, out), 0644);
    write_file_atomic(root / "nginx.conf", render_nginx_conf(site, o.server_ip, o.http_port, out),
                      0644);
    write_file_atomic(root / "README.txt", readme(site, o, out, s, grub_note), 0644);

    // Swap the new tree in; the previous one (now in staging) goes with the TempDir.
    if (fs::exists(out)) {
        if (::renameat2(AT_FDCWD, root.c_str(), AT_FDCWD, out.c_str(), RENAME_EXCHANGE) != 0) {
            throw SystemError("cannot swap " + out.string() + " into place", errno);
        }
    } else {
        if (::rename(root.c_str(), out.c_str()) != 0) {
            throw SystemError("cannot move " + out.string() + " into place", errno);
        }
        staging.release();
    }
    log("published " + out.string());
    return s;
}

}  // namespace airstrap::builder
