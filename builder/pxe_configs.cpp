// The PXE tree's texts, from the site alone (no I/O): per-MAC names, the kernel arguments of a
// network install, the pxelinux and grub menus and per-MAC configs, dnsmasq.conf and
// nginx.conf.
#include <algorithm>
#include <cctype>
#include <set>

#include "builder/iso.hpp"
#include "builder/pxe.hpp"
#include "builder/vendor_media.hpp"
#include "common/error.hpp"
#include "common/text.hpp"

namespace airstrap::builder {

namespace fs = std::filesystem;

namespace {

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

std::string http_boot_url(const std::string& server_ip, int port) {
    return http_root_url(server_ip, port) + "EFI/BOOT/BOOTX64.EFI";
}

PxeConfigs render_pxe_configs(const site::Site& site, const PxeKernel& kernel,
                              const std::string& server_ip, int http_port,
                              const std::string& append, int timeout_seconds,
                              const std::string& tree_dir) {
    PxeConfigs c;
    std::string url = http_root_url(server_ip, http_port);
    // Network installs: each node's entry has its own kickstart (nodes/NAME.ks); the tree
    // holds no profile with several nodes' keys.
    c.plan = site_menu_plan(site, url + "ks/", append, timeout_seconds, "", true);
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
        s += std::string("  kernel ") + pxeboot_kernel_path +
             "\n  append initrd=" + pxeboot_initrd_path + " " +
             join_args({bios_base, e.args, extra}) + "\n";
        return s;
    };
    auto grub_entry = [&](const MenuEntry& e, const std::string& extra) {
        return "menuentry " + grub_quote(e.title) + " --id " + e.id + " {\n    " + linux_word +
               " /" + pxeboot_kernel_path + " " + grub_args(join_args({uefi_base, e.args})) +
               (extra.empty() ? "" : " " + extra) + "\n    " + initrd_word + " /" +
               pxeboot_initrd_path + "\n}\n";
    };

    // Machines the site does not know (or knows only by name): a menu.
    // Its default boots the local disk: a machine the site does not list installs nothing
    // unless someone chooses a node for it.
    std::string px = header +
                     "# Machines without their own pxelinux.cfg/01-<mac> get this menu; the "
                     "default boots the local disk.\n"
                     "ui menu.c32\nmenu title Install site " +
                     isolinux_text(site.name) + "\ntimeout " +
                     std::to_string(timeout_seconds * 10) + "\n";
    std::string gr =
        header + "set timeout=" + std::to_string(timeout_seconds) + "\nset default=local\n";
    gr +=
        "# A machine the site lists goes to its own config (grub 2.04+ reads grub.cfg-01-<mac>\n"
        "# by itself when loaded over TFTP; this is for one that does not). The paths are on\n"
        "# grub's root, the server it was loaded from: tftp/ over PXE, http/ over UEFI HTTP boot;\n"
        "# both hold this menu and every grub.cfg-01-<mac>.\n";
    for (const auto& n : site.nodes) {
        for (const auto& mac : n.macs()) {
            gr += "if [ \"$net_default_mac\" = \"" + text::to_lower(mac) +
                  "\" ]; then configfile /" + grub_config_name(mac) + "; fi\n";
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
        px += pxelinux_label(e, false, "") + "  ipappend 2\n";
        gr += grub_entry(e, "\"BOOTIF=01-${net_default_mac}\"");
    }
    px +=
        "menu separator\nlabel local\n  menu label Boot from the local disk\n  menu default\n"
        "  localboot 0\n";
    // grub: back to the firmware, which tries the next boot device.
    gr += "menuentry 'Boot from the local disk' --id local {\n    exit\n}\n";
    c.pxelinux_default = px;
    c.grub_default = gr;

    for (const auto& n : site.nodes) {
        const MenuEntry* entry = nullptr;
        for (const auto& e : c.plan.entries) {
            if (e.id == "airstrap-node-" + text::to_lower(n.name)) entry = &e;
        }
        bool any_mac = false;
        // Every NIC the site gives a MAC, bond members too: a bonded port PXE-boots alone.
        for (const site::Nic& i : n.nics()) {
            if (i.mac.empty() || !entry) continue;
            any_mac = true;
            PxeConfigs::PerMac m;
            m.names = {n.name, i.mac, pxelinux_config_name(i.mac), grub_config_name(i.mac)};
            std::string bootif = "BOOTIF=" + mac_config_id(i.mac);
            std::string nic = "# " + n.name + " (" + site::to_string(n.role) + "), NIC " +
                              (i.name.empty() ? "of " + i.bond : i.name) + " " + i.mac;
            std::string about = nic + ": installs without a menu.\n";
            MenuEntry direct = *entry;
            direct.id = "airstrap-" + text::to_lower(n.name);
            m.pxelinux = header + about + "default " + direct.id + "\nprompt 0\ntimeout 0\n" +
                         pxelinux_label(direct, false, bootif);
            m.grub = header + about + "set timeout=0\nset default=" + direct.id + "\n" +
                     grub_entry(direct, bootif);
            // Once installed (its %post reported it), the same file boots the local disk: a
            // node whose firmware boots from the network first must not reinstall itself.
            std::string installed =
                nic + ": installed, boots its local disk.\n# To install it again: airstrap serve " +
                tree_dir + " --rebuild " + n.name + "\n";
            m.pxelinux_local = header + installed +
                               "default local\nprompt 0\ntimeout 0\nlabel local\n  localboot 0\n";
            // grub: back to the firmware, which tries its next boot device (the disk).
            m.grub_local = header + installed +
                           "set timeout=0\nset default=local\n"
                           "menuentry 'Boot from the local disk' --id local {\n    exit\n}\n";
            c.per_mac.push_back(std::move(m));
        }
        if (!any_mac) c.menu_only_nodes.push_back(n.name);
    }
    return c;
}

// ---- server configs -------------------------------------------------------------------------

std::string render_dnsmasq_conf(const site::Site& site, const fs::path& dir, const UefiBoot& uefi) {
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
         (dir / "tftp").string() + "\n";
    bool shim = uefi.pxe_file == "shimx64.efi";
    s += "# UEFI x86-64 PXE (client architecture 7, and 9 from some firmware) gets " +
         std::string(shim ? "the DVD's shim (Secure Boot),\n# which loads grubx64.efi beside it"
                          : "grub (no shim on the DVD: Secure Boot must be off)") +
         "; BIOS gets pxelinux.\n"
         "dhcp-match=set:efi-x86_64,option:client-arch,7\n"
         "dhcp-match=set:efi-x86_64,option:client-arch,9\n"
         "dhcp-boot=tag:efi-x86_64," +
         uefi.pxe_file + "\n";
    // Each client matches one tag: which of several matching dhcp-boot lines dnsmasq takes
    // is left to no rule.
    std::string bios = "tag:!efi-x86_64";
    if (!uefi.http_url.empty()) {
        s += "# UEFI HTTP boot (client architecture 16) gets a URL and must be told it is one "
             "(option 60);\n# its grub reads grub.cfg and grub.cfg-01-<mac> from http/.\n"
             "dhcp-match=set:efi-http,option:client-arch,16\n"
             "dhcp-option-force=tag:efi-http,60,HTTPClient\n"
             "dhcp-boot=tag:efi-http," +
             uefi.http_url + "\n";
        bios += ",tag:!efi-http";
    }
    s += "dhcp-boot=" + bios +
         ",pxelinux.0\n"
         "log-dhcp\n";
    return s;
}

std::string render_nginx_conf(const site::Site& site, const std::string& server_ip, int port,
                              const fs::path& dir) {
    // The provisioning service's locations: what the client may send is small and slow
    // clients are cut off; nginx sets X-Airstrap-Client itself (a client's own header of that
    // name is not passed on), which is how the service knows who asks.
    auto service_location = [](const std::string& prefix) {
        return "        location " + prefix +
               " {\n"
               "            limit_except GET POST { deny all; }\n"
               "            client_max_body_size 4k;\n"
               "            proxy_pass http://unix:" +
               std::string(service_socket_placeholder) +
               ":;  # airstrap-service\n"
               "            proxy_set_header X-Airstrap-Client $remote_addr;\n"
               "            proxy_pass_request_body on;\n"
               "            proxy_buffering off;\n"
               "        }\n";
    };
    return "# airstrap: HTTP for the PXE installs of site " + site.name +
           ": the vendor install tree and\n"
           "# /airstrap/repo(.tar), static; /ks/ (each node's kickstart) and /airstrap/v1/ (the "
           "install\n"
           "# report) from the provisioning service on a unix socket, whose path 'airstrap serve' "
           "puts\n"
           "# in place of " +
           service_socket_placeholder + ". Run: airstrap serve " + dir.string() +
           "\n"
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
           "    # Idle or slow clients cost little: short timeouts, a few connections per "
           "address.\n"
           "    client_body_timeout 10s;\n"
           "    client_header_timeout 10s;\n"
           "    keepalive_timeout 10s;\n"
           "    send_timeout 30s;\n"
           "    limit_conn_zone $binary_remote_addr zone=per_address:1m;\n"
           "    server {\n"
           "        listen " +
           server_ip + ":" + std::to_string(port) +
           ";  # airstrap-listen\n"
           "        root " +
           (dir / "http").string() +
           ";\n"
           "        autoindex off;\n"
           "        limit_conn per_address 16;\n" +
           service_location("/ks/") + service_location("/airstrap/v1/") +
           "    }\n"
           "}\n";
}

}  // namespace airstrap::builder
