// The PXE tree on disk (`airstrap build pxe`): the vendor tree, boot loaders, the configs of
// pxe_configs.cpp, the private half for the provisioning service (kickstarts, service.json,
// each node's state carried over: provision/tree.hpp) and the site repository, swapped into
// place.
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
#include "node/credentials.hpp"
#include "node/layout.hpp"
#include "provision/tree.hpp"
#include "repo-mirror/archive.hpp"

namespace airstrap::builder {

namespace fs = std::filesystem;

namespace {

constexpr const char* vendor_grub_efi = "EFI/BOOT/grubx64.efi";
// The DVD's shim: the first stage Secure Boot firmware trusts (signed by Microsoft); it loads
// grubx64.efi from its own folder, signed by the vendor.
constexpr const char* vendor_shim_efi = "EFI/BOOT/BOOTX64.EFI";
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
                   const PxeSummary& s, const std::string& uefi_note) {
    std::string d = dir.string();
    std::string r =
        "PXE install tree for site " + site.name + " (" + s.product +
        "), written by 'airstrap build pxe'.\n\n"
        "Serve it from a machine on the management network that has the address " +
        o.server_ip +
        ":\n\n"
        "    airstrap serve " +
        d +
        " --interface IF      # as root: DHCP uses port 67\n\n"
        "That runs, until Ctrl-C, dnsmasq (DHCP with static leases for the site's MACs + TFTP\n"
        "from tftp/, see dnsmasq.conf) and nginx (http/ on " +
        s.http_url +
        ", see\n"
        "nginx.conf) as an unprivileged user (--server-user, default nobody), and the\n"
        "provisioning service as the tree's owner.\n"
        "If the site already has a DHCP server, point it at this host as next-server with boot\n"
        "file pxelinux.0 (BIOS) or " +
        s.uefi_boot_file +
        " (UEFI) and run 'airstrap serve --http-only' plus a TFTP\n"
        "server on tftp/. Open 67/udp, 69/udp and " +
        std::to_string(o.http_port) +
        "/tcp.\n\n"
        "Who reads what:\n"
        "    http/, tftp/      public: dnsmasq and nginx (the server user) read them\n"
        "    private/  0700    the tree's owner only: ks/nodes/NODE.ks, NODE's own kickstart (the\n"
        "                      root password hash and that node's key; the controller's also the\n"
        "                      site secret and the deployment's passwords), and service.json\n"
        "                      (each node's address, MACs, install report key and boot configs)\n"
        "    state/    0700    the tree's owner only: nodes.json, each node's build state\n"
        "Give the tree to a user of its own, neither root nor the server user:\n\n"
        "    useradd --system --user-group --no-create-home airstrap-pxe     # once\n"
        "    chown -R airstrap-pxe:airstrap-pxe " +
        d +
        "     # after every build\n\n"
        "nginx passes /ks/ and /airstrap/v1/ to the service, which hands NODE.ks only to NODE's\n"
        "address and only while NODE is in build (403 otherwise, logged). There is no site.ks or\n"
        "role profile here (those carry several nodes' keys: removable media only). Serve this\n"
        "tree only on the isolated provisioning network.\n\n"
        "Install once: a node starts in build (its per-MAC configs install it). Its kickstart's\n"
        "last %post reports \"installed\" to the service, signed with its own report key; the\n"
        "service then switches its per-MAC configs to boot the local disk (state local), so a\n"
        "node whose firmware boots from the network first does not install itself again.\n\n"
        "    airstrap serve " +
        d +
        " --status [--json]     # each node's state, phase, last error\n"
        "    airstrap serve " +
        d +
        " --rebuild NODE        # NODE installs again on its next network boot\n\n"
        "Building this tree again ('airstrap build pxe') keeps each node's state.\n\n"
        "Boot loaders:\n"
        "BIOS PXE: pxelinux.0 (Debian's syslinux).\n" +
        uefi_note +
        "\nBooted in airstrap's tests: BIOS PXE and UEFI PXE (OVMF) through dnsmasq, with a "
        "stand-in\nfor the shim. Not booted there: UEFI HTTP boot, Secure Boot with a signed "
        "shim.\n\n"
        "Every NIC the site lists boots its node directly (state now):\n";
    auto state_of = [&](const std::string& node) -> std::string {
        for (const auto& n : s.nodes) {
            if (n.node == node) return n.local ? "local" : "build";
        }
        return "build";
    };
    for (const auto& m : s.per_mac) {
        r += "    " + m.mac + "  " + m.node + " (" + state_of(m.node) + ")  tftp/" +
             m.pxelinux_cfg + ", tftp/" + m.grub_cfg + "\n";
    }
    for (const auto& n : s.menu_only_nodes) {
        r += "    (no MAC)           " + n + "  choose it in the menu\n";
    }
    r += "Other machines get the menu (tftp/pxelinux.cfg/default, tftp/grub.cfg): one entry per\n"
         "node (its kickstart goes to that node's address only); its default boots the local "
         "disk.\n";
    return r;
}

// The provisioning service's view of the site (provision/tree.hpp): per node its address,
// MACs, kickstart, report key and per-MAC boot files in both states.
provision::ServiceConfig service_config(const site::Site& site, const site::Secrets& secrets,
                                        const PxeOptions& o, const PxeConfigs& cfg,
                                        bool http_boot) {
    provision::ServiceConfig c;
    c.site = site.name;
    c.server_ip = o.server_ip;
    c.http_port = o.http_port;
    for (const auto& n : site.nodes) {
        provision::NodeEntry e;
        e.name = n.name;
        e.role = site::to_string(n.role);
        if (auto a = site.management_address(n)) e.address = a->str();
        for (const auto& mac : n.macs()) e.macs.push_back(text::to_lower(mac));
        e.kickstart = kickstart::node_kickstart_path(n.name).generic_string();
        e.report_key = node::install_report_key(node::node_key(secrets.site_secret, n.name));
        for (const auto& m : cfg.per_mac) {
            if (m.names.node != n.name) continue;
            e.boot_files.push_back({"tftp/" + m.names.pxelinux_cfg, m.pxelinux, m.pxelinux_local});
            e.boot_files.push_back({"tftp/" + m.names.grub_cfg, m.grub, m.grub_local});
            // A grub that came over UEFI HTTP boot reads the same name from http/.
            if (http_boot) {
                e.boot_files.push_back({"http/" + m.names.grub_cfg, m.grub, m.grub_local});
            }
        }
        c.nodes.push_back(std::move(e));
    }
    return c;
}

}  // namespace

std::vector<std::string> write_pxe_kickstarts(const site::Site& site, const site::Secrets& secrets,
                                              const fs::path& root, const std::string& http_url) {
    fs::path dir = root / provision::kickstart_dir;
    fs::create_directories(dir / kickstart::node_kickstart_dir);
    // Before anything is written into it: the tree's owner alone reads the kickstarts.
    for (const fs::path& d :
         {root / provision::private_dir, dir, dir / kickstart::node_kickstart_dir}) {
        if (::chmod(d.c_str(), 0700) != 0) throw SystemError("cannot chmod " + d.string(), errno);
    }
    std::vector<std::string> written;
    for (const auto& p : kickstart::write_kickstarts(site, secrets, dir,
                                                     kickstart::KickstartSet::per_node, http_url)) {
        written.push_back(fs::relative(p, root).generic_string());
    }
    return written;
}

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
        grub_note = "grub: the DVD's " + std::string(vendor_grub_efi) +
                    " (tftp/grubx64.efi). Its built-in prefix may point at\n"
                    "/EFI/BOOT rather than the TFTP root, so the menu is also at "
                    "tftp/EFI/BOOT/grub.cfg; both\nsend a listed MAC to its grub.cfg-01-<mac>.";
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
            "grub: built here with grub-mkimage (Debian's grub-efi-amd64-bin, prefix "
            "(tftp)/),\nbecause the DVD has no " +
            std::string(vendor_grub_efi) + "; it is not signed.";
    }
    // Secure Boot firmware starts only what Microsoft signed: the vendor's shim, which then
    // starts the vendor's grub beside it. The shim is served byte for byte.
    bool shim = kernel.vendor_grub && media.files.contains(vendor_shim_efi);
    std::string uefi_note;
    if (shim) {
        link_or_copy(http / vendor_shim_efi, tftp / "shimx64.efi");
        s.uefi_boot_file = "shimx64.efi";
        s.http_boot = true;
        uefi_note = "UEFI PXE: shimx64.efi, the DVD's shim (" + std::string(vendor_shim_efi) +
                    ", byte for byte), signed by\nMicrosoft: Secure Boot firmware starts it, and "
                    "it starts the DVD's grubx64.efi beside it.\n" +
                    grub_note + "\nUEFI HTTP boot (DHCP client arch 16): " +
                    http_boot_url(o.server_ip, o.http_port) +
                    "; its grub reads\nhttp/EFI/BOOT/grub.cfg (this menu) and "
                    "http/grub.cfg-01-<mac>.";
    } else {
        s.uefi_boot_file = "grubx64.efi";
        std::string why = media.files.contains(vendor_shim_efi)
                              ? "the DVD has " + std::string(vendor_shim_efi) + " but no " +
                                    vendor_grub_efi + " for it to load"
                              : "the DVD has no shim (" + std::string(vendor_shim_efi) + ")";
        uefi_note = "UEFI PXE: grubx64.efi without a shim, because " + why +
                    ":\nSecure Boot must be off on the nodes.\n" + grub_note +
                    "\nUEFI HTTP boot is not offered (no shim to send).";
        log("warning: " + why +
            ": UEFI nodes get grubx64.efi directly, so Secure Boot must be "
            "off on them");
    }
    log("UEFI PXE boot file: " + s.uefi_boot_file + (shim ? " (the DVD's shim)" : "") +
        "; grub: " + s.grub_source +
        (s.http_boot ? "; UEFI HTTP boot: " + http_boot_url(o.server_ip, o.http_port) : ""));

    // Boot configs. The per-MAC ones are the service's (prepare_tree below writes each in the
    // variant of its node's state).
    PxeConfigs cfg = render_pxe_configs(site, kernel, o.server_ip, o.http_port, o.append,
                                        o.timeout_seconds, out.string());
    s.entries = cfg.plan.entries.size();
    write_file_atomic(tftp / "pxelinux.cfg" / "default", cfg.pxelinux_default, 0644);
    write_file_atomic(tftp / "grub.cfg", cfg.grub_default, 0644);
    if (kernel.vendor_grub) {
        fs::create_directories(tftp / "EFI" / "BOOT");
        write_file_atomic(tftp / "EFI" / "BOOT" / "grub.cfg", cfg.grub_default, 0644);
    }
    if (s.http_boot) {
        // The vendor's menu boots the DVD (inst.stage2=hd:LABEL=…), which an HTTP-booted grub
        // does not have; Anaconda never reads this file from inst.repo.
        write_file_atomic(http / grub_cfg_path, cfg.grub_default, 0644);
    }
    for (const auto& m : cfg.per_mac) s.per_mac.push_back(m.names);
    s.menu_only_nodes = cfg.menu_only_nodes;
    for (const auto& n : s.menu_only_nodes) {
        log(n +
            " has no MAC in the site file: it gets only menu entries (choose it in the PXE menu)");
    }

    // One kickstart per node (only its own credentials; the controller's also the site
    // secret and deploy.sealed), never site.ks or a role profile, under private/: the service
    // hands each to its node only. Then the site repository.
    s.kickstarts = write_pxe_kickstarts(site, secrets, root, s.http_url);
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

    // The service's half: service.json, each node's state carried over from the tree this
    // one replaces (an installed node must not install again because its tree was rebuilt)
    // and every per-MAC config in the variant of that state.
    auto states =
        provision::prepare_tree(root, out, service_config(site, secrets, o, cfg, s.http_boot));
    for (const auto& n : states) {
        s.nodes.push_back({n.name, n.local});
        if (n.local) {
            log(n.name + ": installed (state local, kept from " + out.string() +
                "): its network boot boots the local disk; 'airstrap serve " + out.string() +
                " --rebuild " + n.name + "' installs it again");
        }
    }
    for (const auto& m : s.per_mac) {
        bool local = std::any_of(s.nodes.begin(), s.nodes.end(), [&](const PxeNodeState& n) {
            return n.node == m.node && n.local;
        });
        log(m.node + ": " + m.mac + (local ? " boots its local disk" : " installs it") + " (tftp/" +
            m.pxelinux_cfg + ", tftp/" + m.grub_cfg + ")");
    }

    UefiBoot uefi;
    uefi.pxe_file = s.uefi_boot_file;
    if (s.http_boot) uefi.http_url = http_boot_url(o.server_ip, o.http_port);
    write_file_atomic(root / "dnsmasq.conf", render_dnsmasq_conf(site, out, uefi), 0644);
    write_file_atomic(root / "nginx.conf", render_nginx_conf(site, o.server_ip, o.http_port, out),
                      0644);
    write_file_atomic(root / "README.txt", readme(site, o, out, s, uefi_note), 0644);

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
