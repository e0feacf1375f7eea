// node_setup: one description of a node, which the kickstart renders and images apply.
#include "kickstart/node_setup.hpp"

#include <gtest/gtest.h>

#include "kickstart/render.hpp"
#include "node/credentials.hpp"
#include "site/site_file.hpp"
#include "tests/unit/test_support.hpp"

using namespace airstrap;

TEST(NodeSetup, TheNetworkNodeOfLab3) {
    auto f = testutil::lab3_file();
    auto s = kickstart::node_setup(f->site(), testutil::fixed_secrets(), "network-node");
    EXPECT_EQ(s.fqdn, "network-node.lab.local");
    EXPECT_EQ(s.timezone, "Asia/Shanghai");
    EXPECT_FALSE(s.rtc_utc);
    EXPECT_EQ(s.selinux, site::Selinux::disabled);
    EXPECT_EQ(s.services.enable, (std::vector<std::string>{"sshd", "chronyd", "network",
                                                           "airstrap-firstboot.service"}));
    EXPECT_EQ(s.services.disable, (std::vector<std::string>{"NetworkManager", "firewalld"}));
    ASSERT_EQ(s.network.size(), 2u);
    EXPECT_EQ(kickstart::ifcfg_text(s.network[0], false),
              "# Written by airstrap\nDEVICE=ens32\nNAME=ens32\nTYPE=Ethernet\nONBOOT=yes\n"
              "BOOTPROTO=none\nHWADDR=00:0c:29:2c:6f:6f\nIPADDR=192.168.111.11\nPREFIX=24\n"
              "GATEWAY=192.168.111.2\nDEFROUTE=yes\nDNS1=192.168.111.2\nIPV6INIT=no\nMTU=1500\n"
              "NM_CONTROLLED=no\n");
    // ens34 goes to br-ex: up, no address.
    EXPECT_TRUE(s.network[1].bridged);
    EXPECT_EQ(
        kickstart::ifcfg_text(s.network[1], false),
        "# Written by airstrap\nDEVICE=ens34\nNAME=ens34\nTYPE=Ethernet\nONBOOT=yes\n"
        "BOOTPROTO=none\nHWADDR=00:0c:29:2c:6f:79\nIPV6INIT=no\nMTU=1500\nNM_CONTROLLED=no\n");
    EXPECT_EQ(kickstart::nm_keyfile_text(s.network[0]),
              "# Written by airstrap\n[connection]\nid=ens32\ntype=ethernet\n"
              "interface-name=ens32\nautoconnect=true\n\n[ethernet]\n"
              "mac-address=00:0c:29:2c:6f:6f\nmtu=1500\n\n[ipv4]\nmethod=manual\n"
              "address1=192.168.111.11/24,192.168.111.2\ndns=192.168.111.2;\n\n[ipv6]\n"
              "method=disabled\n");
    EXPECT_NE(kickstart::nm_keyfile_text(s.network[1]).find("[ipv4]\nmethod=disabled\n"),
              std::string::npos);
    // The repo file, then /etc/airstrap: the node's own key, no site.key and no deploy.sealed
    // off the controller.
    std::vector<std::string> paths;
    for (const auto& file : s.files) paths.push_back(file.path);
    EXPECT_EQ(paths,
              (std::vector<std::string>{"/etc/yum.repos.d/airstrap.repo", "/etc/airstrap/site.json",
                                        "/etc/airstrap/node", "/etc/airstrap/node.key"}));
    EXPECT_EQ(s.files[2].content, "network-node\n");
    EXPECT_EQ(s.files[3].mode, 0600u);
    EXPECT_EQ(s.files[3].content, node::key_file_text(node::node_key(
                                      testutil::fixed_secrets().site_secret, "network-node")));
    EXPECT_TRUE(s.remove_packages.empty());
}

TEST(NodeSetup, TheControllerGetsTheSealedDeployConfigAndComputeLosesLibvirtsNetwork) {
    auto f = testutil::lab3_file();
    auto secrets = testutil::fixed_secrets();
    auto c = kickstart::node_setup(f->site(), secrets, "controller-node");
    EXPECT_EQ(c.files.back().path, "/etc/airstrap/deploy.sealed");
    EXPECT_EQ(c.files.back().mode, 0600u);
    EXPECT_EQ(c.files.back().content.find(secrets.keystone_admin_password), std::string::npos);
    auto n = kickstart::node_setup(f->site(), secrets, "compute-node");
    EXPECT_EQ(n.remove_packages, (std::vector<std::string>{"libvirt-daemon-config-network"}));
    EXPECT_EQ(n.files[1].path, "/etc/modprobe.d/airstrap-kvm-nested.conf");
}

TEST(NodeSetup, TheKickstartSaysWhatTheImageApplies) {
    auto f = testutil::lab3_file();
    auto secrets = testutil::fixed_secrets();
    auto s = kickstart::node_setup(f->site(), secrets, "compute-node");
    std::string ks = kickstart::render_kickstart(f->site(), secrets, site::Role::compute);
    EXPECT_NE(ks.find("rootpw --iscrypted " + s.root_hash + "\n"), std::string::npos);
    EXPECT_NE(
        ks.find("services --enabled=sshd,chronyd,network --disabled=NetworkManager,firewalld\n"),
        std::string::npos);
    for (const auto& file : s.files) {
        if (file.path.starts_with("/etc/airstrap/node")) continue;  // %pre picks the node
        EXPECT_NE(ks.find(file.content), std::string::npos) << file.path;
    }
    EXPECT_NE(ks.find("systemctl enable airstrap-firstboot.service\n"), std::string::npos);
}
