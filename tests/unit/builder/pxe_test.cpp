// The PXE tree's text: per-MAC file names, kernel arguments, the install and local-boot
// configs, dnsmasq.conf and nginx.conf for lab3, the server address check, and where the
// kickstarts go. The vendor's arguments come from the CentOS 7 menus in tests/data/menus.
#include "builder/pxe.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.hpp"
#include "common/text.hpp"
#include "kickstart/render.hpp"
#include "node/credentials.hpp"
#include "site/site_file.hpp"

namespace fs = std::filesystem;
using namespace airstrap;
using namespace airstrap::builder;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_FALSE(ss.str().empty()) << p;
    return ss.str();
}

std::unique_ptr<site::SiteFile> lab3() {
    fs::path p = fs::path(AIRSTRAP_SOURCE_DIR) / "examples/lab3/site.yaml";
    auto f = site::SiteFile::from_text("site.yaml", slurp(p), "/srv/lab3");
    EXPECT_TRUE(f->ok()) << f->diag().render();
    return f;
}

PxeKernel centos7_kernel() {
    fs::path menus = fs::path(AIRSTRAP_TEST_DATA) / "menus";
    PxeKernel k;
    k.bios = isolinux_default_entry(slurp(menus / "centos7-isolinux.cfg"), "isolinux.cfg");
    k.uefi = grub_default_entry(slurp(menus / "centos7-grub.cfg"), "grub.cfg");
    return k;
}

std::vector<std::string> lines(const std::string& text) {
    return text::split(text, '\n');
}

bool has_line(const std::string& text, const std::string& line) {
    auto l = lines(text);
    return std::find(l.begin(), l.end(), line) != l.end();
}

// The "append"/"linux" line of a config: the kernel arguments as words.
std::vector<std::string> args_of(const std::string& config, const std::string& keyword) {
    for (const auto& l : lines(config)) {
        std::string t =
            l.substr(l.find_first_not_of(' ') == std::string::npos ? 0 : l.find_first_not_of(' '));
        if (t.starts_with(keyword + " ")) {
            std::vector<std::string> words;
            for (const auto& w : text::split(t.substr(keyword.size() + 1), ' ')) {
                if (!w.empty()) words.push_back(w);
            }
            return words;
        }
    }
    return {};
}

bool has(const std::vector<std::string>& words, const std::string& w) {
    return std::find(words.begin(), words.end(), w) != words.end();
}

}  // namespace

TEST(PxeNames, PerMacFilesAreLowerCaseWithDashesAndArpType) {
    EXPECT_EQ(mac_config_id("00:0C:29:5E:12:12"), "01-00-0c-29-5e-12-12");
    EXPECT_EQ(pxelinux_config_name("00:0c:29:2c:6f:6f"), "pxelinux.cfg/01-00-0c-29-2c-6f-6f");
    EXPECT_EQ(grub_config_name("00:0c:29:2c:6f:79"), "grub.cfg-01-00-0c-29-2c-6f-79");
}

TEST(PxeConfigs, EveryMacOfLab3GetsBothConfigs) {
    auto f = lab3();
    auto c = render_pxe_configs(f->site(), centos7_kernel(), "192.168.111.5", 8080, "", 10);
    std::vector<std::string> got;
    for (const auto& m : c.per_mac)
        got.push_back(m.names.node + " " + m.names.pxelinux_cfg + " " + m.names.grub_cfg);
    EXPECT_EQ(got,
              (std::vector<std::string>{
                  "controller-node pxelinux.cfg/01-00-0c-29-3a-10-10 grub.cfg-01-00-0c-29-3a-10-10",
                  "network-node pxelinux.cfg/01-00-0c-29-2c-6f-6f grub.cfg-01-00-0c-29-2c-6f-6f",
                  "network-node pxelinux.cfg/01-00-0c-29-2c-6f-79 grub.cfg-01-00-0c-29-2c-6f-79",
                  "compute-node pxelinux.cfg/01-00-0c-29-5e-12-12 grub.cfg-01-00-0c-29-5e-12-12"}));
    EXPECT_TRUE(c.menu_only_nodes.empty());
}

TEST(PxeConfigs, PerMacKernelArgumentsBootTheNodeFromHttp) {
    auto f = lab3();
    auto c =
        render_pxe_configs(f->site(), centos7_kernel(), "192.168.111.5", 8080, "console=ttyS0", 10);
    const auto& compute = c.per_mac.back();
    ASSERT_EQ(compute.names.node, "compute-node");
    for (const auto& [config, keyword] :
         {std::pair{compute.pxelinux, std::string("append")}, {compute.grub, "linux"}}) {
        auto a = args_of(config, keyword);
        ASSERT_FALSE(a.empty()) << config;
        EXPECT_TRUE(has(a, "inst.ks=http://192.168.111.5:8080/ks/nodes/compute-node.ks")) << config;
        EXPECT_TRUE(has(a, "inst.repo=http://192.168.111.5:8080/")) << config;
        EXPECT_TRUE(has(a, "airstrap.node=compute-node")) << config;
        EXPECT_TRUE(has(a, "ip=dhcp")) << config;
        EXPECT_TRUE(has(a, "BOOTIF=01-00-0c-29-5e-12-12")) << config;
        EXPECT_TRUE(has(a, "console=ttyS0")) << config;
        EXPECT_TRUE(has(a, "quiet")) << config;  // the vendor's own arguments stay
        for (const auto& w : a) {
            EXPECT_FALSE(w.starts_with("inst.stage2=")) << config;
            EXPECT_NE(w, "rd.live.check") << config;
        }
    }
    EXPECT_TRUE(has_line(compute.pxelinux, "  kernel images/pxeboot/vmlinuz"));
    EXPECT_TRUE(has(args_of(compute.pxelinux, "append"), "initrd=images/pxeboot/initrd.img"));
    // The vendor DVD had no grubx64.efi: Debian's grub, whose words are linux/initrd.
    EXPECT_TRUE(args_of(compute.grub, "linuxefi").empty());
    EXPECT_FALSE(args_of(compute.grub, "linux").empty());
    EXPECT_TRUE(has_line(compute.grub, "    initrd /images/pxeboot/initrd.img"));
}

TEST(PxeConfigs, VendorGrubKeepsItsLinuxefiWords) {
    auto f = lab3();
    PxeKernel k = centos7_kernel();
    k.vendor_grub = true;
    auto c = render_pxe_configs(f->site(), k, "192.168.111.5", 8080, "", 10);
    EXPECT_FALSE(args_of(c.per_mac.front().grub, "linuxefi").empty()) << c.per_mac.front().grub;
    EXPECT_TRUE(has_line(c.per_mac.front().grub, "    initrdefi /images/pxeboot/initrd.img"));
}

TEST(PxeConfigs, DefaultMenusBootTheLocalDiskAndListEveryNodeWithItsOwnKickstart) {
    auto f = lab3();
    auto c = render_pxe_configs(f->site(), centos7_kernel(), "192.168.111.5", 8080, "", 7);
    EXPECT_TRUE(has_line(c.pxelinux_default, "ui menu.c32"));
    EXPECT_TRUE(has_line(c.pxelinux_default, "timeout 70"));
    // An unknown machine installs nothing by itself.
    std::string local =
        "label local\n  menu label Boot from the local disk\n  menu default\n  localboot 0\n";
    EXPECT_NE(c.pxelinux_default.find(local), std::string::npos) << c.pxelinux_default;
    EXPECT_EQ(c.pxelinux_default.find("menu default"), c.pxelinux_default.rfind("menu default"));
    EXPECT_TRUE(has_line(c.grub_default, "set default=local"));
    EXPECT_NE(c.grub_default.find("menuentry 'Boot from the local disk' --id local {\n    exit\n}"),
              std::string::npos)
        << c.grub_default;
    // One entry per node, with its own kickstart; no site or role profile anywhere.
    ASSERT_EQ(c.plan.entries.size(), 3u);
    for (const char* node : {"controller-node", "network-node", "compute-node"}) {
        std::string ks = std::string("inst.ks=http://192.168.111.5:8080/ks/nodes/") + node + ".ks";
        EXPECT_NE(c.pxelinux_default.find(ks + " "), std::string::npos) << node;
        EXPECT_NE(c.grub_default.find(ks), std::string::npos) << node;
        EXPECT_NE(c.pxelinux_default.find(std::string("airstrap.node=") + node), std::string::npos);
        EXPECT_NE(c.grub_default.find(std::string("airstrap.node=") + node), std::string::npos);
    }
    std::string all = c.pxelinux_default + c.grub_default;
    for (const auto& m : c.per_mac) all += m.pxelinux + m.grub;
    for (const char* profile : {"site.ks", "/controller.ks", "/network.ks", "/compute.ks"})
        EXPECT_EQ(all.find(profile), std::string::npos) << profile;
    EXPECT_TRUE(has_line(c.grub_default,
                         "if [ \"$net_default_mac\" = \"00:0c:29:5e:12:12\" ]; then "
                         "configfile /grub.cfg-01-00-0c-29-5e-12-12; fi"));
    EXPECT_NE(c.grub_default.find("\"BOOTIF=01-${net_default_mac}\""), std::string::npos);
}

// Once a node is installed its per-MAC configs boot the local disk: no kernel, no menu, no
// wait, and they say how to install it again.
TEST(PxeConfigs, LocalVariantsBootTheDiskWithoutAKernel) {
    auto f = lab3();
    PxeKernel k = centos7_kernel();
    k.vendor_grub = true;
    auto c =
        render_pxe_configs(f->site(), k, "192.168.111.5", 8080, "console=ttyS0", 10, "/srv/pxe");
    ASSERT_EQ(c.per_mac.size(), 4u);
    for (const auto& m : c.per_mac) {
        for (const std::string* local : {&m.pxelinux_local, &m.grub_local}) {
            for (const auto& l : lines(*local)) {
                std::string t = text::trim(l);
                for (const char* word : {"kernel", "linux", "linuxefi", "initrd", "initrdefi",
                                         "append", "ui", "menu"}) {
                    EXPECT_FALSE(t == word || t.starts_with(std::string(word) + " "))
                        << m.names.node << ": " << l;
                }
            }
            EXPECT_EQ(local->find("inst.ks="), std::string::npos);
            EXPECT_NE(local->find("# " + m.names.node + " ("), std::string::npos) << *local;
            EXPECT_NE(local->find("installed, boots its local disk"), std::string::npos) << *local;
            EXPECT_NE(local->find("airstrap serve /srv/pxe --rebuild " + m.names.node),
                      std::string::npos)
                << *local;
        }
        EXPECT_TRUE(m.pxelinux_local.ends_with(
            "default local\nprompt 0\ntimeout 0\nlabel local\n  localboot 0\n"))
            << m.pxelinux_local;
        EXPECT_TRUE(m.grub_local.ends_with(
            "set timeout=0\nset default=local\n"
            "menuentry 'Boot from the local disk' --id local {\n    exit\n}\n"))
            << m.grub_local;
        // The build variants still install, at once.
        EXPECT_TRUE(has_line(m.pxelinux, "timeout 0"));
        EXPECT_TRUE(has_line(m.grub, "set timeout=0"));
        EXPECT_FALSE(args_of(m.grub, "linuxefi").empty());
    }
}

TEST(PxeConfigs, NodesWithoutMacGetOnlyMenuEntries) {
    std::string text = slurp(fs::path(AIRSTRAP_SOURCE_DIR) / "examples/lab3/site.yaml");
    std::string mac = "mac: \"00:0c:29:5e:12:12\", ";
    text.replace(text.find(mac), mac.size(), "");
    auto f = site::SiteFile::from_text("site.yaml", text, "/srv/lab3");
    ASSERT_TRUE(f->ok()) << f->diag().render();
    auto c = render_pxe_configs(f->site(), centos7_kernel(), "192.168.111.5", 8080, "", 10);
    EXPECT_EQ(c.menu_only_nodes, std::vector<std::string>{"compute-node"});
    EXPECT_EQ(c.per_mac.size(), 3u);
    EXPECT_NE(c.pxelinux_default.find("airstrap.node=compute-node"), std::string::npos);
    EXPECT_NE(c.pxelinux_default.find("ks/nodes/compute-node.ks"), std::string::npos);
}

TEST(PxeDnsmasq, Lab3StaticLeasesAndBootFiles) {
    auto f = lab3();
    std::string conf = render_dnsmasq_conf(f->site(), "/srv/pxe");
    for (const char* want : {
             "port=0",
             "bind-interfaces",
             "dhcp-range=192.168.111.0,static,255.255.255.0",
             "dhcp-option=option:router,192.168.111.2",
             "dhcp-host=00:0c:29:3a:10:10,192.168.111.10,controller-node",
             "dhcp-host=00:0c:29:2c:6f:6f,192.168.111.11,network-node",
             "dhcp-host=00:0c:29:5e:12:12,192.168.111.12,compute-node",
             "enable-tftp",
             "tftp-root=/srv/pxe/tftp",
             "dhcp-match=set:efi-x86_64,option:client-arch,7",
             "dhcp-match=set:efi-x86_64,option:client-arch,9",
             "dhcp-boot=tag:efi-x86_64,grubx64.efi",
             "dhcp-boot=tag:!efi-x86_64,pxelinux.0",
             "log-dhcp",
         }) {
        EXPECT_TRUE(has_line(conf, want)) << want << "\n" << conf;
    }
    // The network node's second NIC is on the external network: no lease from here.
    EXPECT_EQ(conf.find("dhcp-host=00:0c:29:2c:6f:79"), std::string::npos) << conf;
    EXPECT_NE(conf.find("# network-node ens34 00:0c:29:2c:6f:79: on external (192.168.222.11)"),
              std::string::npos)
        << conf;
    // The operator names the interface: a commented line, never a guess.
    for (const auto& l : lines(conf)) EXPECT_FALSE(l.starts_with("interface=")) << l;
}

// With the DVD's shim: UEFI PXE clients get it, HTTP boot clients a URL; each client
// matches exactly one dhcp-boot line.
TEST(PxeDnsmasq, ShimForUefiPxeAndAUrlForHttpBoot) {
    auto f = lab3();
    UefiBoot uefi;
    uefi.pxe_file = "shimx64.efi";
    uefi.http_url = http_boot_url("192.168.111.5", 8080);
    EXPECT_EQ(uefi.http_url, "http://192.168.111.5:8080/EFI/BOOT/BOOTX64.EFI");
    std::string conf = render_dnsmasq_conf(f->site(), "/srv/pxe", uefi);
    for (const char* want : {
             "dhcp-match=set:efi-x86_64,option:client-arch,7",
             "dhcp-match=set:efi-x86_64,option:client-arch,9",
             "dhcp-boot=tag:efi-x86_64,shimx64.efi",
             "dhcp-match=set:efi-http,option:client-arch,16",
             "dhcp-option-force=tag:efi-http,60,HTTPClient",
             "dhcp-boot=tag:efi-http,http://192.168.111.5:8080/EFI/BOOT/BOOTX64.EFI",
             "dhcp-boot=tag:!efi-x86_64,tag:!efi-http,pxelinux.0",
         }) {
        EXPECT_TRUE(has_line(conf, want)) << want << "\n" << conf;
    }
    EXPECT_EQ(conf.find("grubx64.efi\n"), std::string::npos) << conf;
    std::size_t boots = 0;
    for (const auto& l : lines(conf)) boots += l.starts_with("dhcp-boot=");
    EXPECT_EQ(boots, 3u);

    // Without a shim: grub, and no HTTP boot (there is nothing to send).
    std::string plain = render_dnsmasq_conf(f->site(), "/srv/pxe");
    EXPECT_TRUE(has_line(plain, "dhcp-boot=tag:efi-x86_64,grubx64.efi"));
    EXPECT_EQ(plain.find("client-arch,16"), std::string::npos);
    EXPECT_EQ(plain.find("HTTPClient"), std::string::npos);
    EXPECT_NE(plain.find("Secure Boot must be off"), std::string::npos) << plain;
}

TEST(PxeNginx, ListensOnTheServerAndServesHttp) {
    auto f = lab3();
    std::string conf = render_nginx_conf(f->site(), "192.168.111.5", 8081, "/srv/pxe");
    EXPECT_TRUE(has_line(conf, "        listen 192.168.111.5:8081;  # airstrap-listen"));
    EXPECT_TRUE(has_line(conf, "        root /srv/pxe/http;"));
    EXPECT_TRUE(has_line(conf, "        autoindex off;"));
    EXPECT_TRUE(has_line(conf, "pid nginx.pid;"));  // relative: under nginx's -p prefix
    for (const char* want : {"    client_body_timeout 10s;", "    client_header_timeout 10s;",
                             "    keepalive_timeout 10s;", "    send_timeout 30s;",
                             "    limit_conn_zone $binary_remote_addr zone=per_address:1m;",
                             "        limit_conn per_address 16;"}) {
        EXPECT_TRUE(has_line(conf, want)) << want << "\n" << conf;
    }
}

// /ks/ and /airstrap/v1/ go to the provisioning service, whose socket serve fills in, with
// the client's address set by nginx; nothing else is proxied.
TEST(PxeNginx, KickstartsAndReportsGoToTheServiceWithTheClientsAddress) {
    auto f = lab3();
    std::string conf = render_nginx_conf(f->site(), "192.168.111.5", 8081, "/srv/pxe");
    for (const std::string prefix : {"/ks/", "/airstrap/v1/"}) {
        std::string open = "        location " + prefix + " {\n";
        auto at = conf.find(open);
        ASSERT_NE(at, std::string::npos) << prefix << "\n" << conf;
        std::string block = conf.substr(at, conf.find("        }\n", at) + 10 - at);
        EXPECT_EQ(block, open +
                             "            limit_except GET POST { deny all; }\n"
                             "            client_max_body_size 4k;\n"
                             "            proxy_pass http://unix:@AIRSTRAP_SERVICE_SOCKET@:;  "
                             "# airstrap-service\n"
                             "            proxy_set_header X-Airstrap-Client $remote_addr;\n"
                             "            proxy_pass_request_body on;\n"
                             "            proxy_buffering off;\n"
                             "        }\n");
    }
    std::size_t proxied = 0, marked = 0;
    for (const auto& l : lines(conf)) {
        proxied += l.find("proxy_pass ") != std::string::npos;
        marked += l.find("# airstrap-service") != std::string::npos;
    }
    EXPECT_EQ(proxied, 2u);
    EXPECT_EQ(marked, 2u);
    EXPECT_EQ(std::string(service_socket_placeholder), "@AIRSTRAP_SERVICE_SOCKET@");
    EXPECT_EQ(conf.find("location /airstrap/ "), std::string::npos);  // the repository: static
}

// The kickstarts go under private/ (the service's), each with its install report; nothing
// under http/, which nginx serves to anyone.
TEST(PxeKickstarts, OnlyUnderPrivateEachWithItsReport) {
    auto f = lab3();
    site::Secrets secrets;
    secrets.site_secret = crypto::Bytes(32, 0x5a);
    secrets.root_password = "test-root-password";
    secrets.default_password = "test-default-password";
    secrets.keystone_admin_password = "test-keystone-password";
    fs::path root = fs::temp_directory_path() / ("airstrap-pxe-ks-" + std::to_string(::getpid()));
    fs::remove_all(root);
    fs::create_directories(root / "http");
    auto written = write_pxe_kickstarts(f->site(), secrets, root, "http://192.168.111.5:8080/");
    EXPECT_EQ(written, (std::vector<std::string>{"private/ks/nodes/controller-node.ks",
                                                 "private/ks/nodes/network-node.ks",
                                                 "private/ks/nodes/compute-node.ks"}));
    std::vector<std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        if (e.is_regular_file()) files.push_back(fs::relative(e.path(), root).generic_string());
    }
    std::sort(files.begin(), files.end());
    EXPECT_EQ(files, (std::vector<std::string>{"private/ks/nodes/compute-node.ks",
                                               "private/ks/nodes/controller-node.ks",
                                               "private/ks/nodes/network-node.ks"}));
    auto mode = [](const fs::path& p) {
        struct stat st {};
        EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
        return st.st_mode & 07777;
    };
    EXPECT_EQ(mode(root / "private"), 0700u);
    EXPECT_EQ(mode(root / "private/ks"), 0700u);
    EXPECT_EQ(mode(root / "private/ks/nodes"), 0700u);
    for (const auto& w : written) {
        EXPECT_EQ(mode(root / w), 0600u) << w;
        std::string node = fs::path(w).stem().string();
        std::string ks = slurp(root / w);
        EXPECT_TRUE(has_line(ks, kickstart::install_report_marker)) << w;
        EXPECT_TRUE(has_line(ks, "url='http://192.168.111.5:8080/'")) << w;
        EXPECT_TRUE(has_line(ks, "key='" +
                                     crypto::to_hex(node::install_report_key(
                                         node::node_key(secrets.site_secret, node))) +
                                     "'"))
            << w;
    }
    fs::remove_all(root);
}

TEST(PxeServerIp, MustBeInTheManagementNetwork) {
    auto f = lab3();
    EXPECT_EQ(check_server_ip(f->site(), "192.168.111.5", false).str(), "192.168.111.5");
    try {
        check_server_ip(f->site(), "10.0.2.2", false);
        FAIL() << "10.0.2.2 was accepted";
    } catch (const InputError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "--server-ip 10.0.2.2 is not in the site's management network 'management' "
                  "(192.168.111.0/24): the nodes could not reach it there; pass an address of "
                  "192.168.111.0/24 (or --allow-foreign-server-ip when a NAT or port forward "
                  "sits between)");
    }
    EXPECT_EQ(check_server_ip(f->site(), "10.0.2.2", true).str(), "10.0.2.2");
    EXPECT_THROW(check_server_ip(f->site(), "192.168.111.12", false), InputError);  // compute-node
    EXPECT_THROW(check_server_ip(f->site(), "192.168.111.255", false), InputError);
    EXPECT_THROW(check_server_ip(f->site(), "192.168.111", false), InputError);
}

TEST(PxeArgs, VendorStage2AndMediaCheckDropped) {
    EXPECT_EQ(pxe_base_args("initrd=initrd.img inst.stage2=hd:LABEL=CentOS\\x207\\x20x86_64 "
                            "rd.live.check quiet",
                            "http://10.0.2.2:8080/"),
              "quiet inst.repo=http://10.0.2.2:8080/ ip=dhcp");
}

// As root, serve runs the provisioning service as the tree's owner (and dnsmasq and nginx's
// workers as another user): a tree owned by root is refused before anything starts.
TEST(PxeServe, RefusesATreeOwnedByRootWhenRoot) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (the check applies to root only)";
    fs::path dir = fs::temp_directory_path() / ("airstrap-serve-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir / "http");
    fs::create_directories(dir / "private");
    std::ofstream(dir / "nginx.conf") << "listen 1.2.3.4:8080;  # airstrap-listen\n";
    std::ofstream(dir / "dnsmasq.conf") << "port=0\n";
    std::ofstream(dir / "private" / "service.json")
        << R"({"format": 1, "site": "lab3", "server_ip": "1.2.3.4", "http_port": 8080, )"
        << R"("nodes": []})";
    ServeOptions o;
    o.dir = dir;
    std::string message;
    try {
        serve_pxe(o);
    } catch (const InputError& e) {
        message = e.what();
    }
    EXPECT_NE(message.find((dir / "private").string() +
                           " is owned by root (uid 0, gid 0): the provisioning service runs as "
                           "the tree's owner and will not run as root"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("chown -R airstrap-pxe:airstrap-pxe " + dir.string()), std::string::npos)
        << message;
    fs::remove_all(dir);
}
