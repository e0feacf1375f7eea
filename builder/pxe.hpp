// The PXE tree: everything a site's nodes need to install over the network.
//
//   DIR/tftp     boot loaders (Debian's pxelinux for BIOS; the DVD's shim and grub for UEFI),
//                the vendor's installer kernel and initrd, one pxelinux and one grub config
//                per NIC MAC (its node's state decides their text: install, or boot the local
//                disk) and a menu for unknown machines. Read by dnsmasq (TFTP).
//   DIR/http     the vendor DVD's install tree (inst.repo; UEFI HTTP boot's BOOTX64.EFI), the
//                site repository (folder and repo.tar for %post) and, for HTTP-booted grub,
//                the per-MAC grub configs again. Read by nginx, which proxies /ks/ and
//                /airstrap/v1/ to the provisioning service.
//   DIR/private  the kickstarts and service.json, the tree's owner only (provision/tree.hpp);
//   DIR/state    each node's build state, which a rebuilt tree carries over.
//   DIR/dnsmasq.conf, DIR/nginx.conf, DIR/README.txt
//
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

struct PxeNodeState {
    std::string node;
    bool local = false;  // installed: its network boot boots the local disk
};

struct PxeSummary {
    std::string product, vendor_label;
    std::string grub_source;     // "vendor" or "built"
    std::string uefi_boot_file;  // what UEFI PXE clients get: "shimx64.efi" or "grubx64.efi"
    bool http_boot = false;      // UEFI HTTP boot configured (the DVD has a shim)
    std::vector<PxeNodeFiles> per_mac;
    std::vector<std::string> menu_only_nodes;  // nodes without a MAC
    std::vector<std::string> kickstarts;       // tree-relative: "private/ks/nodes/NODE.ks"
    std::vector<PxeNodeState> nodes;           // each node's state, carried over from DIR
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
        std::string pxelinux, grub;              // state build: install, no menu, timeout 0
        std::string pxelinux_local, grub_local;  // state local: boot the local disk, no kernel
    };
    std::vector<PerMac> per_mac;
    std::vector<std::string> menu_only_nodes;
};
struct PxeKernel {
    VendorEntry bios;          // from isolinux.cfg: kernel/initrd/args (the paths are rewritten)
    VendorEntry uefi;          // from grub.cfg
    bool vendor_grub = false;  // the vendor's grubx64.efi: keep its linuxefi/initrdefi words
};
// `tree_dir` is the final DIR, named in the local-boot configs ("airstrap serve DIR --rebuild").
PxeConfigs render_pxe_configs(const site::Site& site, const PxeKernel& kernel,
                              const std::string& server_ip, int http_port,
                              const std::string& append, int timeout_seconds,
                              const std::string& tree_dir = "DIR");

// What dnsmasq hands UEFI clients.
struct UefiBoot {
    std::string pxe_file = "grubx64.efi";  // UEFI PXE (client arch 7, 9): shimx64.efi or grub
    std::string http_url;  // UEFI HTTP boot (client arch 16): the boot URL; empty: not offered
};
// The DVD's shim (EFI/BOOT/BOOTX64.EFI) as a UEFI HTTP boot client fetches it.
std::string http_boot_url(const std::string& server_ip, int port);

// dnsmasq: DHCP with static leases for the site's management NICs, TFTP from DIR/tftp; BIOS
// clients get pxelinux.0, UEFI PXE clients `uefi.pxe_file`, UEFI HTTP boot clients
// `uefi.http_url`. `dir` is the final DIR.
std::string render_dnsmasq_conf(const site::Site& site, const std::filesystem::path& dir,
                                const UefiBoot& uefi = {});
// The placeholder for the provisioning service's unix socket in nginx.conf, on the line
// marked "# airstrap-service": `airstrap serve` replaces it (the socket is made at run time).
inline constexpr const char* service_socket_placeholder = "@AIRSTRAP_SERVICE_SOCKET@";
// nginx: DIR/http on SERVER:PORT, static; /ks/ and /airstrap/v1/ proxied to the service's
// socket with the client's address in X-Airstrap-Client; pid, temp and logs relative to
// nginx's -p prefix.
std::string render_nginx_conf(const site::Site& site, const std::string& server_ip, int port,
                              const std::filesystem::path& dir);

// Each node's own kickstart, with its install report to `http_url` ("http://SERVER:PORT/"),
// as ROOT/private/ks/nodes/NODE.ks (0600; private/ and private/ks 0700): never under http/,
// which nginx serves to anyone. Returns the ROOT-relative paths.
std::vector<std::string> write_pxe_kickstarts(const site::Site& site, const site::Secrets& secrets,
                                              const std::filesystem::path& root,
                                              const std::string& http_url);

PxeSummary build_pxe(const site::Site& site, const site::Secrets& secrets,
                     const PxeOptions& options, CommandRunner& runner);

// `airstrap serve`: dnsmasq, nginx and the provisioning service (provision/service.hpp) as
// children of this process, their output forwarded line by line; SIGINT/SIGTERM forwarded. Returns
// when either child ends (the other is then stopped): 0 after a forwarded signal, 1 when a server
// ended on its own (its status and last lines are logged). Throws InputError when DIR is not a PXE
// tree.
struct ServeOptions {
    std::filesystem::path dir;
    std::string interface;               // dnsmasq --interface
    std::string http_listen;             // replaces the address nginx.conf listens on (NAT, tests)
    bool http_only = false;              // no dnsmasq: the site's own DHCP/TFTP points at DIR/tftp
    std::string server_user = "nobody";  // as root: dnsmasq's and nginx's workers' user
    std::function<void(const std::string&)> log;
};
int serve_pxe(const ServeOptions& options);

}  // namespace airstrap::builder
