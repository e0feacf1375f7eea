#include "builder/pxe.hpp"

#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

#include "builder/iso.hpp"
#include "builder/media_sources.hpp"
#include "builder/vendor_media.hpp"
#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/text.hpp"
#include "kickstart/render.hpp"
#include "repo-mirror/archive.hpp"

namespace airstrap::builder {

namespace fs = std::filesystem;

namespace {

constexpr const char* kernel_path = "images/pxeboot/vmlinuz";
constexpr const char* initrd_path = "images/pxeboot/initrd.img";
constexpr const char* vendor_grub_efi = "EFI/BOOT/grubx64.efi";
// The modules a TFTP-loaded grub needs to read its config and boot Linux over the network.
const std::vector<std::string> grub_net_modules = {
    "normal", "configfile", "echo",   "test", "linux", "efinet", "net",     "tftp",
    "http",   "sleep",      "reboot", "halt", "gzio",  "regexp", "efi_gop", "all_video"};

// Words compared up to '=' (or whole) against `drop`.
std::vector<std::string> words_without(std::string_view args, const std::set<std::string>& drop) {
    std::vector<std::string> kept;
    for (const auto& w : text::split(args, ' ')) {
        if (w.empty()) continue;
        if (drop.contains(w) || drop.contains(w.substr(0, w.find('=')))) continue;
        kept.push_back(w);
    }
    return kept;
}

// A kernel argument as grub's parser reads it back: bare when plain, quoted otherwise.
std::string grub_word(const std::string& w) {
    bool plain = !w.empty() && std::all_of(w.begin(), w.end(), [](unsigned char c) {
        return std::isalnum(c) ||
               std::string_view("._:/=,@+-%").find(static_cast<char>(c)) != std::string_view::npos;
    });
    return plain ? w : grub_quote(w);
}

std::string grub_args(const std::string& args) {
    std::vector<std::string> out;
    for (const auto& w : text::split(args, ' ')) {
        if (!w.empty()) out.push_back(grub_word(w));
    }
    return text::join(out, " ");
}

std::string join_args(std::initializer_list<std::string> parts) {
    std::vector<std::string> kept;
    for (const auto& p : parts) {
        if (!p.empty()) kept.push_back(p);
    }
    return text::join(kept, " ");
}

// The grub word that loads the kernel (linux / linuxefi) and the initrd.
std::pair<std::string, std::string> grub_words(const PxeKernel& k) {
    if (!k.vendor_grub) return {"linux", "initrd"};
    auto word = [](const std::string& line, const char* fallback) {
        std::string w = line.substr(0, line.find(' '));
        return w.empty() ? std::string(fallback) : w;
    };
    return {word(k.uefi.kernel, "linux"), word(k.uefi.initrd, "initrd")};
}

std::string isolinux_text(std::string t) {
    std::replace(t.begin(), t.end(), '\n', ' ');
    return t;
}

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

// ---- names and arguments --------------------------------------------------------------------

std::string mac_config_id(std::string_view mac) {
    std::string id = "01-" + text::to_lower(mac);
    std::replace(id.begin(), id.end(), ':', '-');
    return id;
}

std::string pxelinux_config_name(std::string_view mac) {
    return "pxelinux.cfg/" + mac_config_id(mac);
}

std::string grub_config_name(std::string_view mac) {
    return "grub.cfg-" + mac_config_id(mac);
}

std::string http_root_url(const std::string& server_ip, int port) {
    return "http://" + server_ip + ":" + std::to_string(port) + "/";
}

site::Ipv4 check_server_ip(const site::Site& site, const std::string& ip, bool allow) {
    auto addr = site::Ipv4::parse(ip);
    if (!addr) throw InputError("--server-ip '" + ip + "' is not an IPv4 address (a.b.c.d)");
    if (allow) return *addr;
    const site::Network* mgmt = site.management_network();
    if (!mgmt) throw InputError("the site has no management network to serve PXE on");
    if (!mgmt->cidr.contains(*addr)) {
        throw InputError("--server-ip " + ip + " is not in the site's management network '" +
                         mgmt->name + "' (" + mgmt->cidr.str() +
                         "): the nodes could not reach it there; pass an address of " +
                         mgmt->cidr.str() +
                         " (or --allow-foreign-server-ip when a NAT or port forward sits between)");
    }
    if (*addr == mgmt->cidr.base || *addr == mgmt->cidr.broadcast()) {
        throw InputError("--server-ip " + ip + " is the network or broadcast address of " +
                         mgmt->cidr.str());
    }
    for (const auto& n : site.nodes) {
        for (const auto& i : n.interfaces) {
            if (i.address && *i.address == *addr) {
                throw InputError("--server-ip " + ip + " is " + n.name + "'s address (" + i.name +
                                 "): the PXE server needs an address of its own");
            }
        }
    }
    return *addr;
}

std::string pxe_base_args(const std::string& vendor_args, const std::string& http_url) {
    static const std::set<std::string> drop = {"inst.stage2", "stage2",    "rd.live.check",
                                               "initrd",      "inst.repo", "repo",
                                               "method",      "inst.ks",   "ks",
                                               "ip",          "BOOTIF",    "rd.neednet"};
    auto kept = words_without(vendor_args, drop);
    kept.push_back("inst.repo=" + http_url);
    kept.push_back("ip=dhcp");
    return text::join(kept, " ");
}

PxeConfigs render_pxe_configs(const site::Site& site, const PxeKernel& kernel,
                              const std::string& server_ip, int http_port,
                              const std::string& append, int timeout_seconds) {
    PxeConfigs c;
    std::string url = http_root_url(server_ip, http_port);
    c.plan = site_menu_plan(site, url + "ks/", append, timeout_seconds);
    std::string bios_base = pxe_base_args(kernel.bios.args, url);
    std::string uefi_base = pxe_base_args(kernel.uefi.args, url);
    // Not a structured binding: clang 14 cannot capture those in the lambdas below.
    const auto words = grub_words(kernel);
    const std::string linux_word = words.first, initrd_word = words.second;
    const std::string header =
        "# airstrap: PXE boot for site " + site.name + " (written by 'airstrap build pxe')\n";

    auto pxelinux_label = [&](const MenuEntry& e, bool is_default, const std::string& extra) {
        std::string s = "label " + e.id + "\n  menu label " + isolinux_text(e.title) + "\n";
        if (is_default) s += "  menu default\n";
        s += std::string("  kernel ") + kernel_path + "\n  append initrd=" + initrd_path + " " +
             join_args({bios_base, e.args, extra}) + "\n";
        return s;
    };
    auto grub_entry = [&](const MenuEntry& e, const std::string& extra) {
        return "menuentry " + grub_quote(e.title) + " --id " + e.id + " {\n    " + linux_word +
               " /" + kernel_path + " " + grub_args(join_args({uefi_base, e.args})) +
               (extra.empty() ? "" : " " + extra) + "\n    " + initrd_word + " /" + initrd_path +
               "\n}\n";
    };

    // Machines the site does not know (or knows only by name): a menu.
    std::string px = header +
                     "# Machines without their own pxelinux.cfg/01-<mac> get this menu; the "
                     "default finds the node by MAC.\n"
                     "ui menu.c32\nmenu title Install site " +
                     isolinux_text(site.name) + "\ntimeout " +
                     std::to_string(timeout_seconds * 10) + "\n";
    std::string gr = header + "set timeout=" + std::to_string(timeout_seconds) +
                     "\nset default=" + c.plan.entries.front().id + "\n";
    gr +=
        "# A machine the site lists goes to its own config (grub 2.04+ reads grub.cfg-01-<mac>\n"
        "# by itself when loaded over TFTP; this is for one that does not).\n";
    for (const auto& n : site.nodes) {
        for (const auto& i : n.interfaces) {
            if (i.mac.empty()) continue;
            gr += "if [ \"$net_default_mac\" = \"" + text::to_lower(i.mac) +
                  "\" ]; then configfile /" + grub_config_name(i.mac) + "; fi\n";
        }
    }
    bool separated = false;
    for (std::size_t k = 0; k < c.plan.entries.size(); ++k) {
        const MenuEntry& e = c.plan.entries[k];
        if (e.grouped && !separated) {
            px += "menu separator\n";
            separated = true;
        }
        // ipappend 2: BOOTIF=<the booting NIC>, so that ip=dhcp asks on that NIC only.
        px += pxelinux_label(e, k == 0, "") + "  ipappend 2\n";
        gr += grub_entry(e, "\"BOOTIF=01-${net_default_mac}\"");
    }
    px += "menu separator\nlabel local\n  menu label Boot from the local disk\n  localboot 0\n";
    c.pxelinux_default = px;
    c.grub_default = gr;

    for (const auto& n : site.nodes) {
        const MenuEntry* entry = nullptr;
        for (const auto& e : c.plan.entries) {
            if (e.id == "airstrap-node-" + text::to_lower(n.name)) entry = &e;
        }
        bool any_mac = false;
        for (const auto& i : n.interfaces) {
            if (i.mac.empty() || !entry) continue;
            any_mac = true;
            PxeConfigs::PerMac m;
            m.names = {n.name, i.mac, pxelinux_config_name(i.mac), grub_config_name(i.mac)};
            std::string bootif = "BOOTIF=" + mac_config_id(i.mac);
            std::string about = "# " + n.name + " (" + site::to_string(n.role) + "), NIC " +
                                i.name + " " + i.mac + ": installs without a menu.\n";
            MenuEntry direct = *entry;
            direct.id = "airstrap-" + text::to_lower(n.name);
            m.pxelinux = header + about + "default " + direct.id + "\nprompt 0\ntimeout 0\n" +
                         pxelinux_label(direct, false, bootif);
            m.grub = header + about + "set timeout=0\nset default=" + direct.id + "\n" +
                     grub_entry(direct, bootif);
            c.per_mac.push_back(std::move(m));
        }
        if (!any_mac) c.menu_only_nodes.push_back(n.name);
    }
    return c;
}

// ---- server configs -------------------------------------------------------------------------

std::string render_dnsmasq_conf(const site::Site& site, const fs::path& dir) {
    const site::Network* mgmt = site.management_network();
    if (!mgmt) throw InputError("the site has no management network to serve PXE on");
    std::string s =
        "# airstrap: DHCP (static leases only) and TFTP for the PXE installs of site " + site.name +
        ".\n# Run: airstrap serve " + dir.string() +
        " --interface IF   (or: dnsmasq --keep-in-foreground --conf-file=THIS)\n"
        "# DNS is off (port=0); only the MACs listed below get an address.\n"
        "port=0\n"
        "# interface=eth0   # the NIC on the management network; or 'airstrap serve --interface'\n"
        "bind-interfaces\n"
        "dhcp-range=" +
        mgmt->cidr.base.str() + ",static," + mgmt->cidr.netmask().str() + "\n";
    if (mgmt->gateway) s += "dhcp-option=option:router," + mgmt->gateway->str() + "\n";
    if (!mgmt->dns.empty()) {
        std::vector<std::string> dns;
        for (const auto& d : mgmt->dns) dns.push_back(d.str());
        s += "dhcp-option=option:dns-server," + text::join(dns, ",") + "\n";
    }
    for (const auto& n : site.nodes) {
        for (const auto& i : n.interfaces) {
            if (i.mac.empty()) continue;
            if (i.network == mgmt->name && i.address) {
                s += "dhcp-host=" + i.mac + "," + i.address->str() + "," + n.name + "\n";
            } else {
                s += "# " + n.name + " " + i.name + " " + i.mac + ": " +
                     (i.address ? "on " + i.network + " (" + i.address->str() + ")"
                                : std::string("no address")) +
                     ", not the management network: no lease here\n";
            }
        }
    }
    s += "enable-tftp\n"
         "tftp-root=" +
         (dir / "tftp").string() +
         "\n"
         "# UEFI x86-64 (client architecture 7, and 9 from some firmware) gets grub, BIOS "
         "pxelinux.\n"
         "dhcp-match=set:efi-x86_64,option:client-arch,7\n"
         "dhcp-match=set:efi-x86_64,option:client-arch,9\n"
         "dhcp-boot=tag:efi-x86_64,grubx64.efi\n"
         "dhcp-boot=tag:!efi-x86_64,pxelinux.0\n"
         "log-dhcp\n";
    return s;
}

std::string render_nginx_conf(const site::Site& site, const std::string& server_ip, int port,
                              const fs::path& dir) {
    return "# airstrap: HTTP for the PXE installs of site " + site.name +
           ": the vendor install tree,\n"
           "# /ks/*.ks and /airstrap/repo(.tar). Run: airstrap serve " +
           dir.string() +
           "\n# (or: nginx -e stderr -p PREFIX -c THIS -g 'daemon off;', PREFIX a folder it may "
           "write to).\n"
           "worker_processes 2;\n"
           "pid nginx.pid;\n"
           "error_log stderr;\n"
           "events { worker_connections 256; }\n"
           "http {\n"
           "    default_type application/octet-stream;\n"
           "    types { text/plain ks cfg txt; application/x-tar tar; }\n"
           "    sendfile on;\n"
           "    access_log /dev/stdout;\n"
           "    client_body_temp_path client_body;\n"
           "    proxy_temp_path proxy;\n"
           "    fastcgi_temp_path fastcgi;\n"
           "    uwsgi_temp_path uwsgi;\n"
           "    scgi_temp_path scgi;\n"
           "    server {\n"
           "        listen " +
           server_ip + ":" + std::to_string(port) +
           ";  # airstrap-listen\n"
           "        root " +
           (dir / "http").string() +
           ";\n"
           "        autoindex off;\n"
           "    }\n"
           "}\n";
}

// ---- the build ------------------------------------------------------------------------------

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
        "http/ks/*.ks hold the root password hash and the site secret: serve them only on the\n"
        "isolated provisioning network.\n\n"
        "Boot loaders: BIOS pxelinux.0 (Debian's syslinux); UEFI grubx64.efi: " +
        grub_note + "\n\nEvery NIC the site lists boots its node directly:\n";
    for (const auto& m : s.per_mac) {
        r += "    " + m.mac + "  " + m.node + "  tftp/" + m.pxelinux_cfg + ", tftp/" + m.grub_cfg +
             "\n";
    }
    for (const auto& n : s.menu_only_nodes) {
        r += "    (no MAC)           " + n + "  choose it in the menu\n";
    }
    r += "Other machines get the menu (tftp/pxelinux.cfg/default, tftp/grub.cfg); its default\n"
         "installs the node whose MAC the machine has (http/ks/site.ks).\n";
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
    for (const char* p : {kernel_path, initrd_path}) {
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
    link_or_copy(http / kernel_path, tftp / kernel_path);
    link_or_copy(http / initrd_path, tftp / initrd_path);

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

    // Kickstarts and the site repository.
    for (const auto& p : kickstart::write_kickstarts(site, secrets, http / "ks")) {
        s.kickstarts.push_back("ks/" + p.filename().string());
    }
    fs::path repo_src = fs::absolute(o.repo);
    fs::path repo_dst = http / kickstart::media_repo_dir;
    fs::path tar_path = http / (std::string(kickstart::media_repo_dir) + ".tar");
    fs::create_directories(repo_dst);
    log("adding the site repository " + o.repo.string() + " (http/" + kickstart::media_repo_dir +
        " and " + kickstart::media_repo_dir + ".tar)");
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
