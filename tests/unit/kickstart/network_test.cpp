// network.hpp: a node's devices from the site, and their three renderings (kickstart network
// commands, ifcfg, NetworkManager keyfiles), against the formats Anaconda, network-scripts and
// NetworkManager document (pykickstart's network command; ifcfg-rh's BONDING_OPTS, VLAN=yes,
// PHYSDEV, VLAN_ID, IPV6ADDR; nm-settings-keyfile's [bond], [vlan], master/slave-type).
#include "kickstart/network.hpp"

#include <gtest/gtest.h>

#include "kickstart/node_setup.hpp"
#include "kickstart/render.hpp"
#include "site/site_file.hpp"
#include "tests/unit/test_support.hpp"

using namespace airstrap;
using kickstart::NetDevice;

namespace {

const site::Node& node_of(const site::Site& s, const std::string& name) {
    for (const auto& n : s.nodes) {
        if (n.name == name) return n;
    }
    throw std::runtime_error("no node " + name);
}

}  // namespace

TEST(NodeNetwork, ABondedTrunkIsItsMembersTheBondAndOneVlanPerNetwork) {
    auto f = testutil::rack_file();
    auto devs = kickstart::node_network(f->site(), node_of(f->site(), "cmp1"));
    ASSERT_EQ(devs.size(), 6u);
    EXPECT_EQ(devs[0].id(), "bond0-port1");
    EXPECT_EQ(devs[0].mac, "3c:fd:fe:a0:11:10");
    EXPECT_EQ(devs[0].device, "");  // by MAC only
    EXPECT_EQ(devs[0].mtu, 9000);   // the largest network the bond carries
    EXPECT_EQ(devs[1].id(), "bond0-port2");
    EXPECT_EQ(devs[2].kind, NetDevice::Kind::bond);
    EXPECT_EQ(devs[2].device, "bond0");
    EXPECT_FALSE(devs[2].has_address());  // a trunk
    EXPECT_EQ(devs[3].device, "bond0.120");
    EXPECT_EQ(devs[3].parent, "bond0");
    EXPECT_EQ(devs[3].vlan_id, 120);
    EXPECT_EQ(devs[3].mtu, 1500);
    EXPECT_EQ(devs[3].address->str(), "10.20.0.21");
    EXPECT_EQ(devs[3].gateway, "10.20.0.1");
    EXPECT_EQ(devs[3].address6->str(), "fd00:20::21");
    EXPECT_EQ(devs[3].prefix6, 64);
    EXPECT_EQ(devs[3].gateway6, "");  // management has no gateway6
    EXPECT_EQ(devs[4].device, "bond0.121");
    EXPECT_EQ(devs[4].gateway, "");  // one default route, on management
    EXPECT_EQ(devs[5].device, "bond0.122");
    EXPECT_EQ(devs[5].mtu, 9000);
}

TEST(NodeNetwork, KeyfilesForAPortABondAndAVlan) {
    auto f = testutil::rack_file();
    auto devs = kickstart::node_network(f->site(), node_of(f->site(), "cmp1"));
    EXPECT_EQ(kickstart::nm_keyfile_text(devs[0]),
              "# Written by airstrap\n[connection]\nid=bond0-port1\ntype=ethernet\n"
              "master=bond0\nslave-type=bond\nautoconnect=true\n\n[ethernet]\n"
              "mac-address=3c:fd:fe:a0:11:10\nmtu=9000\n");
    EXPECT_EQ(kickstart::nm_keyfile_text(devs[2]),
              "# Written by airstrap\n[connection]\nid=bond0\ntype=bond\ninterface-name=bond0\n"
              "autoconnect=true\n\n[ethernet]\nmtu=9000\n\n[bond]\nmode=802.3ad\nmiimon=100\n"
              "lacp_rate=fast\nxmit_hash_policy=layer3+4\n\n[ipv4]\nmethod=disabled\n\n[ipv6]\n"
              "method=disabled\n");
    EXPECT_EQ(kickstart::nm_keyfile_text(devs[3]),
              "# Written by airstrap\n[connection]\nid=bond0.120\ntype=vlan\n"
              "interface-name=bond0.120\nautoconnect=true\n\n[ethernet]\nmtu=1500\n\n[vlan]\n"
              "id=120\nparent=bond0\n\n[ipv4]\nmethod=manual\naddress1=10.20.0.21/24,10.20.0.1\n"
              "dns=10.20.0.2;10.20.0.3;\n\n[ipv6]\nmethod=manual\naddress1=fd00:20::21/64\n"
              "never-default=true\n");
}

TEST(NodeNetwork, IfcfgForABondAVlanAndANamedMember) {
    auto f = testutil::rack_file(
        testutil::replaced(testutil::slurp(testutil::rack_path()),
                           "members: [\"3c:fd:fe:a0:11:10\", \"3c:fd:fe:a0:11:11\"]",
                           "members: [{name: ens1f0, mac: \"3c:fd:fe:a0:11:10\"}, ens2f0]"));
    auto devs = kickstart::node_network(f->site(), node_of(f->site(), "cmp1"));
    EXPECT_EQ(kickstart::ifcfg_text(devs[0], true),
              "# Written by airstrap\nDEVICE=ens1f0\nNAME=bond0-port1\nTYPE=Ethernet\nONBOOT=yes\n"
              "BOOTPROTO=none\nHWADDR=3c:fd:fe:a0:11:10\nMASTER=bond0\nSLAVE=yes\nMTU=9000\n"
              "NM_CONTROLLED=yes\n");
    EXPECT_EQ(devs[1].device, "ens2f0");
    EXPECT_EQ(devs[1].mac, "");
    EXPECT_EQ(kickstart::ifcfg_text(devs[2], false),
              "# Written by airstrap\nDEVICE=bond0\nNAME=bond0\nTYPE=Bond\nBONDING_MASTER=yes\n"
              "BONDING_OPTS=\"mode=802.3ad miimon=100 lacp_rate=fast xmit_hash_policy=layer3+4\"\n"
              "ONBOOT=yes\nBOOTPROTO=none\nIPV6INIT=no\nMTU=9000\nNM_CONTROLLED=no\n");
    EXPECT_EQ(kickstart::ifcfg_text(devs[5], false),
              "# Written by airstrap\nDEVICE=bond0.122\nNAME=bond0.122\nTYPE=Vlan\nVLAN=yes\n"
              "PHYSDEV=bond0\nVLAN_ID=122\nONBOOT=yes\nBOOTPROTO=none\nIPADDR=10.20.2.21\n"
              "PREFIX=24\nDEFROUTE=no\nIPV6INIT=yes\nIPV6_AUTOCONF=no\n"
              "IPV6ADDR=fd00:20:0:2::21/64\nIPV6_DEFROUTE=no\nMTU=9000\nNM_CONTROLLED=no\n");
}

TEST(NodeNetwork, IfcfgRefusesAMemberKnownOnlyByMac) {
    auto f = testutil::rack_file();
    auto devs = kickstart::node_network(f->site(), node_of(f->site(), "cmp1"));
    EXPECT_EQ(testutil::message_of([&] { kickstart::ifcfg_text(devs[0], false); }),
              "network-scripts find a NIC by its name: give bond bond0's member "
              "3c:fd:fe:a0:11:10 a name too (members: [{name: ens1f0, mac: "
              "3c:fd:fe:a0:11:10}, …])");
}

TEST(NodeNetwork, TheIpv6DefaultRouteGoesWhereTheGatewayIs) {
    auto f = testutil::rack_file(
        testutil::replaced(testutil::slurp(testutil::rack_path()), "cidr6: fd00:20::/64",
                           "cidr6: fd00:20::/64\n    gateway6: fd00:20::1"));
    auto devs = kickstart::node_network(f->site(), node_of(f->site(), "cmp1"));
    EXPECT_EQ(devs[3].gateway6, "fd00:20::1");
    EXPECT_NE(kickstart::nm_keyfile_text(devs[3]).find("address1=fd00:20::21/64,fd00:20::1\n"),
              std::string::npos);
    EXPECT_EQ(devs[5].gateway6, "");
}

TEST(NodeNetwork, TheExternalVlanOfANetworkNodeIsUpWithoutAnAddress) {
    auto f = testutil::rack_file();
    auto devs = kickstart::node_network(f->site(), node_of(f->site(), "net1"));
    ASSERT_EQ(devs.size(), 6u);
    EXPECT_EQ(devs[5].device, "bond0.130");
    EXPECT_TRUE(devs[5].bridged);
    EXPECT_FALSE(devs[5].has_address());
    EXPECT_NE(kickstart::nm_keyfile_text(devs[5]).find("[ipv4]\nmethod=disabled\n"),
              std::string::npos);
}

TEST(KickstartNetwork, OneCommandPerBondTheVlansForPost) {
    auto f = testutil::rack_file();
    auto ks = kickstart::kickstart_network(f->site(), node_of(f->site(), "cmp1"));
    EXPECT_EQ(ks.lines,
              "network --device=bond0 --bondslaves=${airstrap_nic1},${airstrap_nic2} "
              "--bondopts=mode=802.3ad,miimon=100,lacp_rate=fast,xmit_hash_policy=layer3+4 "
              "--onboot=yes --bootproto=static --noipv4 --noipv6 --mtu=9000\n");
    EXPECT_NE(ks.resolve.find("airstrap_nic1=$(airstrap_nic_named 3c:fd:fe:a0:11:10) || exit 1\n"),
              std::string::npos);
    EXPECT_NE(ks.resolve.find("bonding_slave/perm_hwaddr"), std::string::npos);
    ASSERT_EQ(ks.vlans.size(), 3u);
    EXPECT_EQ(ks.vlans[0].device, "bond0.120");
}

TEST(KickstartNetwork, AnUntaggedBondCarriesItsAddressesAndIpv6) {
    std::string text = testutil::slurp(testutil::rack_path());
    text = testutil::replaced(text, "    cidr6: fd00:20::/64\n    vlan: 120\n",
                              "    cidr6: fd00:20::/64\n    gateway6: fd00:20::1\n");
    text = testutil::replaced(text, "members: [\"3c:fd:fe:a0:11:10\", \"3c:fd:fe:a0:11:11\"]",
                              "members: [ens1f0, ens2f0]");
    auto f = testutil::rack_file(text);
    auto ks = kickstart::kickstart_network(f->site(), node_of(f->site(), "cmp1"));
    EXPECT_EQ(ks.resolve, "");
    EXPECT_EQ(ks.lines,
              "network --device=bond0 --bondslaves=ens1f0,ens2f0 "
              "--bondopts=mode=802.3ad,miimon=100,lacp_rate=fast,xmit_hash_policy=layer3+4 "
              "--onboot=yes --bootproto=static --ip=10.20.0.21 --netmask=255.255.255.0 "
              "--gateway=10.20.0.1 --nameserver=10.20.0.2,10.20.0.3 --ipv6=fd00:20::21/64 "
              "--ipv6gateway=fd00:20::1 --activate --mtu=9000\n");
    EXPECT_EQ(ks.vlans.size(), 2u);
}

TEST(NetworkFiles, KeyfilesAre0600IfcfgIs0644) {
    auto f = testutil::rack_file();
    auto devs = kickstart::node_network(f->site(), node_of(f->site(), "ctl1"));
    auto files = kickstart::network_files(devs, kickstart::NetworkFiles::keyfile, true);
    ASSERT_EQ(files.size(), devs.size());
    EXPECT_EQ(files[0].path, "/etc/NetworkManager/system-connections/bond0-port1.nmconnection");
    EXPECT_EQ(files[0].mode, 0600u);
    EXPECT_EQ(files[3].path, "/etc/NetworkManager/system-connections/bond0.120.nmconnection");
}

TEST(KickstartNetwork, TheNodesKickstartWritesItsVlansInPostAndFindsItsMembersInPre) {
    auto f = testutil::rack_file();
    std::string ks = kickstart::render_node_kickstart(f->site(), testutil::fixed_secrets(), "cmp1");
    // %pre: the members by MAC, then node.ks through an unquoted here-document.
    auto pre = ks.find("airstrap_nic1=$(airstrap_nic_named 3c:fd:fe:a0:11:10) || exit 1\n");
    auto node_ks =
        ks.find("    cat > /tmp/airstrap/node.ks <<AIRSTRAP_EOF\nnetwork --device=bond0 ");
    ASSERT_NE(pre, std::string::npos);
    ASSERT_NE(node_ks, std::string::npos);
    EXPECT_LT(pre, node_ks);
    // %post: each VLAN as a keyfile (el9), 0600, labelled for SELinux (enforcing here).
    EXPECT_NE(ks.find("cat > /etc/NetworkManager/system-connections/bond0.122.nmconnection "
                      "<<'AIRSTRAP_EOF'\n# Written by airstrap\n[connection]\nid=bond0.122\n"),
              std::string::npos);
    EXPECT_NE(ks.find("chmod 0600 /etc/NetworkManager/system-connections/bond0.122.nmconnection\n"),
              std::string::npos);
    EXPECT_NE(ks.find(" /etc/NetworkManager/system-connections 2>/dev/null || true\n"),
              std::string::npos);
    // One network command per bond: the VLANs are not commands.
    EXPECT_EQ(ks.find("--vlanid"), std::string::npos);
}
