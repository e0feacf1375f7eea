// The PXE tree: everything a site's nodes need to install over the network. DIR/tftp holds
// the boot loaders (Debian's pxelinux for BIOS, grub for UEFI), the vendor's installer kernel
// and initrd and one boot config per NIC MAC (plus a menu for unknown machines); DIR/http
// holds the vendor DVD's install tree, the kickstarts and the site repository (as a folder and
// as repo.tar for %post); DIR/dnsmasq.conf and DIR/nginx.conf serve them (`airstrap serve`).
// Built in a folder beside DIR and swapped into place when complete.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "builder/boot_menu.hpp"
#include "common/subprocess.hpp"
#include "site/model.hpp"
#include "site/secrets.hpp"

namespace airstrap::builder {

// Where the Debian packages put the boot loaders (pxelinux, syslinux-common,
// grub-efi-amd64-bin); tests point these elsewhere.
struct BootLoaderFiles {
    std::filesystem::path pxelinux = "/usr/lib/PXELINUX/pxelinux.0";
    std::filesystem::path syslinux_modules = "/usr/lib/syslinux/modules/bios";
    std::filesystem::path grub_modules = "/usr/lib/grub/x86_64-efi";
};

struct PxeOptions {
    std::filesystem::path output;
    std::filesystem::path vendor_iso;  // empty: the site's media.vendor_iso
    std::filesystem::path repo;        // an `airstrap mirror` output
    std::string server_ip;             // where nodes reach DHCP/TFTP/HTTP
    int http_port = 8080;
    std::string append;  // extra kernel arguments for every entry
    int timeout_seconds = 10;
    // The server address need not be on the site's management network: for a NAT or
    // port-forward in between (QEMU user networking: the guest reaches the host as 10.0.2.2).
    bool allow_foreign_server_ip = false;
    BootLoaderFiles loaders;
    std::function<void(const std::string&)> log;
};

struct PxeNodeFiles {
    std::string node, mac;
    std::string pxelinux_cfg;  // tftp-relative: "pxelinux.cfg/01-aa-bb-…"
    std::string grub_cfg;      // tftp-relative: "grub.cfg-01-aa-bb-…"
};

struct PxeSummary {
    std::string product, vendor_label;
    std::string grub_source;  // "vendor" or "built"
    std::vector<PxeNodeFiles> per_mac;
    std::vector<std::string> menu_only_nodes;  // nodes without a MAC
    std::vector<std::string> kickstarts;       // http-relative paths
    std::size_t entries = 0;                   // menu entries
    std::uint64_t vendor_files = 0, repo_files = 0, repo_hard_links = 0;
    std::string http_url;  // http://SERVER:PORT/
};

// "00:0C:29:5E:12:12" → "01-00-0c-29-5e-12-12" (ARP type 1 + the MAC: pxelinux's and
// grub's per-MAC config name).
std::string mac_config_id(std::string_view mac);
std::string pxelinux_config_name(std::string_view mac);  // "pxelinux.cfg/01-…"
std::string grub_config_name(std::string_view mac);      // "grub.cfg-01-…"

// InputError unless `ip` is a dotted quad inside the site's management network (or `allow`).
site::Ipv4 check_server_ip(const site::Site& site, const std::string& ip, bool allow);

// "http://SERVER:PORT/"
std::string http_root_url(const std::string& server_ip, int port);

// The vendor's kernel arguments as a network install wants them: without inst.stage2 (the
// DVD), rd.live.check, initrd=, and any inst.ks/inst.repo/ip/BOOTIF the vendor had; then
// inst.repo=<http root> and ip=dhcp.
std::string pxe_base_args(const std::string& vendor_args, const std::string& http_url);

// The menu entries and the text of every file, from the site alone (no I/O).
struct PxeConfigs {
    MenuPlan plan;
    std::string pxelinux_default, grub_default;
    struct PerMac {
        PxeNodeFiles names;
        std::string pxelinux, grub;
    };
    std::vector<PerMac> per_mac;
    std::vector<std::string> menu_only_nodes;
};
struct PxeKernel {
    VendorEntry bios;          // from isolinux.cfg: kernel/initrd/args (the paths are rewritten)
    VendorEntry uefi;          // from grub.cfg
    bool vendor_grub = false;  // the vendor's grubx64.efi: keep its linuxefi/initrdefi words
};
PxeConfigs render_pxe_configs(const site::Site& site, const PxeKernel& kernel,
                              const std::string& server_ip, int http_port,
                              const std::string& append, int timeout_seconds);

// dnsmasq: DHCP with static leases for the site's management NICs, TFTP from DIR/tftp,
// UEFI clients get grubx64.efi and BIOS clients pxelinux.0. `dir` is the final DIR.
std::string render_dnsmasq_conf(const site::Site& site, const std::filesystem::path& dir);
// nginx: DIR/http on SERVER:PORT; pid, temp and logs relative to nginx's -p prefix.
std::string render_nginx_conf(const site::Site& site, const std::string& server_ip, int port,
                              const std::filesystem::path& dir);

PxeSummary build_pxe(const site::Site& site, const site::Secrets& secrets,
                     const PxeOptions& options, CommandRunner& runner);

// `airstrap serve`: dnsmasq, nginx and the provisioning service (provision/service.hpp) as
// children of this process, their output forwarded line by line; SIGINT/SIGTERM forwarded. Returns when either child ends (the other is then
// stopped): 0 after a forwarded signal, 1 when a server ended on its own (its status and
// last lines are logged). Throws InputError when DIR is not a PXE tree.
struct ServeOptions {
    std::filesystem::path dir;
    std::string interface;    // dnsmasq --interface
    std::string http_listen;  // replaces the address nginx.conf listens on (NAT, tests)
    bool http_only = false;   // no dnsmasq: the site's own DHCP/TFTP points at DIR/tftp
    std::string server_user = "nobody";  // as root: dnsmasq's and nginx's workers' user
    std::function<void(const std::string&)> log;
};
int serve_pxe(const ServeOptions& options);

}  // namespace airstrap::builder
