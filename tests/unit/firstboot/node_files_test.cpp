// The system files the steps write, byte for byte, for the seed's lab (examples/lab3): merged
// into what the operator or the installer left, and the same bytes on a second run.
#include "firstboot/node_files.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.hpp"
#include "site/site_file.hpp"
#include "site/site_json.hpp"

namespace fs = std::filesystem;
using namespace airstrap;
using namespace airstrap::firstboot;

namespace {

// The lab3 example as the node sees it: site.yaml → site.json (as the kickstart writes it)
// → node::Site.
node::Site lab3() {
    fs::path p = fs::path(AIRSTRAP_SOURCE_DIR) / "examples/lab3/site.yaml";
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    auto file = site::SiteFile::from_text("site.yaml", ss.str(), p.parent_path());
    EXPECT_TRUE(file->ok()) << file->diag().render();
    return node::parse_site_json(
        node::site_json_text(site::node_site(file->site(), airstrap::crypto::Bytes(32, 0x42))));
}

const node::Node& node_named(const node::Site& s, const char* name) {
    return *s.node(name);
}

const std::string ed25519 =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK4XiyH8PoovIO2/RS8Pik1evH/KFx3D1HZZ740QBb8c";
const std::string ed25519_other =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO/8YxGMGAKuDylHkLw6yrSSWOj6cuj73WV/7u9ZETiB";
const std::string ecdsa =
    "ecdsa-sha2-nistp256 "
    "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHL9xsdwSVcYSkEkkR3toRpukHnXVl8di5J8rDfSY"
    "Nvb3trKXLYZjh2mYn4s7baibf4AjrjTgsh3cxb4VOGlpLw=";

const std::string lab3_block =
    "# BEGIN airstrap (site lab3)\n"
    "192.168.111.10 controller-node.lab.local controller-node\n"
    "192.168.111.11 network-node.lab.local network-node\n"
    "192.168.111.12 compute-node.lab.local compute-node\n"
    "# END airstrap\n";

const std::string localhost =
    "127.0.0.1   localhost localhost.localdomain localhost4 localhost4.localdomain4\n"
    "::1         localhost localhost.localdomain localhost6 localhost6.localdomain6\n";

}  // namespace

TEST(NodeFiles, HostsAppendsTheBlockAfterTheInstallersLines) {
    EXPECT_EQ(render_hosts(localhost, lab3()), localhost + lab3_block);
}

TEST(NodeFiles, HostsOnAnEmptyFileIsTheBlock) {
    EXPECT_EQ(render_hosts("", lab3()), lab3_block);
}

TEST(NodeFiles, HostsReplacesTheBlockWhereItStandsAndIsIdempotent) {
    std::string stale =
        "# BEGIN airstrap (site old-name)\n"
        "10.0.0.1 gone.example gone\n"
        "# END airstrap\n";
    std::string operator_line = "10.1.1.1 ntp.corp ntp  # operator's\n";
    std::string first = render_hosts(localhost + stale + operator_line, lab3());
    EXPECT_EQ(first, localhost + lab3_block + operator_line);
    EXPECT_EQ(render_hosts(first, lab3()), first);
}

TEST(NodeFiles, HostsKeepsOperatorLinesEvenForOurNames) {
    std::string mine = "10.9.9.9 controller-node\n";
    EXPECT_EQ(render_hosts(localhost + mine, lab3()), localhost + mine + lab3_block);
}

TEST(NodeFiles, HostsAddsANewlineToAnUnterminatedLastLine) {
    EXPECT_EQ(render_hosts("127.0.0.1 localhost", lab3()), "127.0.0.1 localhost\n" + lab3_block);
}

TEST(NodeFiles, HostsWithoutADomainNamesEachNodeOnce) {
    node::Site s = lab3();
    s.site.domain = "";
    EXPECT_EQ(render_hosts("", s),
              "# BEGIN airstrap (site lab3)\n"
              "192.168.111.10 controller-node\n"
              "192.168.111.11 network-node\n"
              "192.168.111.12 compute-node\n"
              "# END airstrap\n");
}

TEST(NodeFiles, ABeginWithoutAnEndIsRefused) {
    try {
        render_hosts(localhost + "# BEGIN airstrap (site lab3)\n10.0.0.1 x\n", lab3());
        FAIL() << "expected InputError";
    } catch (const InputError& e) {
        EXPECT_STREQ(e.what(),
                     "line 3 opens a managed block ('# BEGIN airstrap') that no '# END airstrap' "
                     "line closes: remove the block or add the END line by hand");
    }
}

TEST(NodeFiles, AHandMadeSecondBlockIsDropped) {
    std::string twice = lab3_block + "1.2.3.4 x\n" + lab3_block;
    EXPECT_EQ(render_hosts(twice, lab3()), lab3_block + "1.2.3.4 x\n");
}

TEST(NodeFiles, ChronyControllerWithoutUpstreamServesItsLocalClock) {
    node::Site s = lab3();
    EXPECT_EQ(render_chrony_conf(s, node_named(s, "controller-node")),
              "# managed by airstrap-firstboot (site lab3): rewritten on every run; change "
              "site.yaml (time:) instead\n"
              "# Serve the site's clock even with no upstream reachable.\n"
              "local stratum 10\n"
              "allow 192.168.111.0/24\n"
              "driftfile /var/lib/chrony/drift\n"
              "makestep 1.0 3\n"
              "rtcsync\n"
              "logdir /var/log/chrony\n");
}

TEST(NodeFiles, ChronyControllerWithUpstreamsListsThem) {
    node::Site s = lab3();
    s.time.upstream = {"ntp1.corp", "10.0.0.123"};
    s.time.stratum = 8;
    std::string conf = render_chrony_conf(s, node_named(s, "controller-node"));
    EXPECT_NE(conf.find("\nserver ntp1.corp iburst\nserver 10.0.0.123 iburst\n"), std::string::npos)
        << conf;
    EXPECT_NE(conf.find("\nlocal stratum 8\nallow 192.168.111.0/24\n"), std::string::npos);
}

TEST(NodeFiles, ChronyNodesFollowTheController) {
    node::Site s = lab3();
    s.time.upstream = {"ntp1.corp"};  // the controller's business, not the nodes'
    std::string expected =
        "# managed by airstrap-firstboot (site lab3): rewritten on every run; change site.yaml "
        "(time:) instead\n"
        "server 192.168.111.10 iburst\n"
        "driftfile /var/lib/chrony/drift\n"
        "makestep 1.0 3\n"
        "rtcsync\n"
        "logdir /var/log/chrony\n";
    EXPECT_EQ(render_chrony_conf(s, node_named(s, "network-node")), expected);
    EXPECT_EQ(render_chrony_conf(s, node_named(s, "compute-node")), expected);
}

TEST(NodeFiles, PublicKeyNormalisationDropsTheComment) {
    EXPECT_EQ(normalize_public_key(ed25519 + " root@controller-node.lab.local\n"), ed25519);
    EXPECT_EQ(normalize_public_key("  " + ecdsa + "\tsome comment with spaces "), ecdsa);
    EXPECT_EQ(normalize_public_key(ed25519), ed25519);
}

TEST(NodeFiles, PublicKeyNormalisationRejectsOtherShapes) {
    EXPECT_THROW(normalize_public_key(""), InputError);
    EXPECT_THROW(normalize_public_key("ssh-ed25519"), InputError);
    EXPECT_THROW(normalize_public_key("no-pty " + ed25519), InputError);  // options
    EXPECT_THROW(normalize_public_key("ssh-ed25519 not*base64*at*all!"), InputError);
    // Cut short, or a key of one type under another's name.
    EXPECT_THROW(normalize_public_key("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK4XiyH8"), InputError);
    EXPECT_THROW(normalize_public_key("ssh-rsa" + ed25519.substr(11)), InputError);
    EXPECT_THROW(normalize_public_key(ed25519 + "\n" + ecdsa), InputError);
    // The first line of a private key file pasted by mistake (only its header; assembled here
    // so that no key-like text sits in the tree).
    EXPECT_THROW(normalize_public_key("-----BEGIN OPENSSH " + std::string("PRIVATE") + " KEY-----"),
                 InputError);
    try {
        normalize_public_key("hello world");
        FAIL();
    } catch (const InputError& e) {
        EXPECT_STREQ(e.what(),
                     "not an SSH public key (expected 'type base64 [comment]'): 'hello world'");
    }
}

TEST(NodeFiles, KeyIdentitySkipsOptionsWithQuotedSpaces) {
    auto id = key_identity("command=\"echo hi there\",no-pty " + ed25519 + " c");
    ASSERT_TRUE(id);
    EXPECT_EQ(id->type + " " + id->base64, ed25519);
    EXPECT_FALSE(key_identity("# " + ed25519));
    EXPECT_FALSE(key_identity("   "));
    EXPECT_FALSE(key_identity("garbage line"));
}

TEST(NodeFiles, AuthorizedKeysAddsAMissingKeyAndKeepsTheRest) {
    std::string existing = "# operators\n" + ecdsa + " alice@laptop\n";
    EXPECT_EQ(merge_authorized_keys(existing, ed25519 + " root@controller-node.lab.local"),
              existing + ed25519 + " root@controller-node.lab.local\n");
    EXPECT_EQ(merge_authorized_keys("", ed25519), ed25519 + "\n");
    EXPECT_EQ(merge_authorized_keys(ecdsa, ed25519), ecdsa + "\n" + ed25519 + "\n");
}

TEST(NodeFiles, AuthorizedKeysIgnoresOptionsAndCommentsWhenComparing) {
    std::string existing = "from=\"192.168.111.0/24\" " + ed25519 + " an-old-comment\n";
    EXPECT_EQ(merge_authorized_keys(existing, ed25519 + " root@controller-node"), existing);
    std::string once = merge_authorized_keys("", ed25519_other + " x");
    EXPECT_EQ(merge_authorized_keys(once, ed25519_other + " x"), once);
    // Same type, other key: both stay.
    EXPECT_EQ(merge_authorized_keys(once, ed25519), once + ed25519 + "\n");
}

TEST(NodeFiles, AuthorizedKeysRefusesWhatIsNotAKey) {
    EXPECT_THROW(merge_authorized_keys("", "not a key"), InputError);
    EXPECT_THROW(merge_authorized_keys("", ed25519 + "\n" + ecdsa), InputError);
}

TEST(NodeFiles, KnownHostsListsEveryKeyOfEveryHost) {
    std::vector<KnownHost> hosts = {
        {{"controller-node", "controller-node.lab.local", "192.168.111.10"},
         {ed25519 + " root@controller", ecdsa}},
        {{"compute-node", "compute-node.lab.local", "192.168.111.12"}, {ed25519_other}},
    };
    std::string expected =
        "# BEGIN airstrap known hosts\n"
        "controller-node,controller-node.lab.local,192.168.111.10 " +
        ed25519 +
        "\n"
        "controller-node,controller-node.lab.local,192.168.111.10 " +
        ecdsa +
        "\n"
        "compute-node,compute-node.lab.local,192.168.111.12 " +
        ed25519_other +
        "\n"
        "# END airstrap\n";
    EXPECT_EQ(render_known_hosts("", hosts), expected);
    std::string operator_line = "gitserver.corp " + ecdsa + "\n";
    std::string merged = render_known_hosts(operator_line + expected, hosts);
    EXPECT_EQ(merged, operator_line + expected);
    // A node rejoined with a new key: the block changes, the operator's line stays.
    hosts[1].keys = {ed25519};
    std::string rejoined = render_known_hosts(merged, hosts);
    EXPECT_EQ(rejoined.find(ed25519_other), std::string::npos);
    EXPECT_EQ(rejoined.rfind(operator_line, 0), 0u);
}

TEST(NodeFiles, KnownHostsRefusesBadNamesAndKeys) {
    EXPECT_THROW(render_known_hosts("", {{{"a b"}, {ed25519}}}), InputError);
    EXPECT_THROW(render_known_hosts("", {{{"a,b"}, {ed25519}}}), InputError);
    EXPECT_THROW(render_known_hosts("", {{{}, {ed25519}}}), InputError);
    EXPECT_THROW(render_known_hosts("", {{{"a"}, {"ssh-ed25519"}}}), InputError);
    // A name must match only itself: no pattern, negation, marker or control character.
    for (const char* bad : {"*", "compute-*", "node?", "!controller", "[192.168.111.12]:22",
                            "@cert-authority", "a\tb", "a\nb", "a\x01b", "#x"}) {
        EXPECT_THROW(render_known_hosts("", {{{bad}, {ed25519}}}), InputError) << bad;
    }
    EXPECT_NO_THROW(
        render_known_hosts("", {{{"compute-node.lab.local", "192.168.111.12"}, {ed25519}}}));
}

TEST(NodeFiles, ReplaceAuthorizedKeySwapsTheOldLineInPlace) {
    std::string existing =
        "# operators\n" + ed25519 + " root@controller-node\n" + ecdsa + " alice@laptop\n";
    EXPECT_EQ(
        replace_authorized_key(existing, ed25519, ed25519_other + " root@controller-node"),
        "# operators\n" + ed25519_other + " root@controller-node\n" + ecdsa + " alice@laptop\n");
    // Every copy of the old key goes (with options too); the new one is there once.
    std::string twice = ed25519 + "\nfrom=\"10.0.0.0/8\" " + ed25519 + " x\n" + ecdsa + "\n";
    EXPECT_EQ(replace_authorized_key(twice, ed25519, ed25519_other),
              ed25519_other + "\n" + ecdsa + "\n");
    // The old key absent: the new one appended; the new one present already: kept once.
    EXPECT_EQ(replace_authorized_key(ecdsa + "\n", ed25519, ed25519_other),
              ecdsa + "\n" + ed25519_other + "\n");
    EXPECT_EQ(replace_authorized_key(ed25519_other + "\n" + ed25519 + "\n", ed25519, ed25519_other),
              ed25519_other + "\n");
    EXPECT_THROW(replace_authorized_key("", ed25519, "not a key"), InputError);
    EXPECT_THROW(replace_authorized_key("", "not a key", ed25519), InputError);
}

TEST(NodeFiles, ExternalIfcfgHasNoAddress) {
    node::Site s = lab3();
    EXPECT_EQ(render_external_ifcfg("", s, "ens34"),
              "# managed by airstrap-firstboot (site lab3): Neutron's external bridge takes this "
              "device over, so it has no address of its own\n"
              "DEVICE=ens34\n"
              "NAME=ens34\n"
              "TYPE=Ethernet\n"
              "ONBOOT=yes\n"
              "BOOTPROTO=none\n"
              "NM_CONTROLLED=no\n");
    s.security.network_manager = true;
    EXPECT_EQ(render_external_ifcfg("", s, "ens34").find("NM_CONTROLLED"), std::string::npos);
}

TEST(NodeFiles, ExternalIfcfgOfAVlanStaysAVlan) {
    // What airstrap writes for bond0.130 (kickstart/network.hpp), with an address to drop.
    std::string vlan =
        "# Written by airstrap\nDEVICE=bond0.130\nNAME=bond0.130\nTYPE=Vlan\nVLAN=yes\n"
        "PHYSDEV=bond0\nVLAN_ID=130\nONBOOT=yes\nBOOTPROTO=none\nIPADDR=203.0.113.11\n"
        "PREFIX=24\nIPV6INIT=no\nMTU=1500\nNM_CONTROLLED=no\n";
    std::string out = render_external_ifcfg(vlan, lab3(), "bond0.130");
    EXPECT_NE(out.find("\nDEVICE=bond0.130\nNAME=bond0.130\nTYPE=Vlan\n"), std::string::npos)
        << out;
    EXPECT_NE(out.find("\nVLAN=yes\nPHYSDEV=bond0\nVLAN_ID=130\nMTU=1500\n"), std::string::npos)
        << out;
    EXPECT_EQ(out.find("IPADDR"), std::string::npos);
    EXPECT_EQ(render_external_ifcfg(out, lab3(), "bond0.130"), out);
}

TEST(NodeFiles, ExternalIfcfgKeepsTheInstallersHwaddrAndMtu) {
    std::string anaconda =
        "TYPE=Ethernet\nBOOTPROTO=none\nIPADDR=192.168.222.11\nPREFIX=24\nNAME=ens34\n"
        "UUID=8d0d6f4c-0000-4000-8000-000000000000\nDEVICE=ens34\nONBOOT=no\n"
        "HWADDR=00:0C:29:2C:6F:79\nMTU=9000\n";
    std::string out = render_external_ifcfg(anaconda, lab3(), "ens34");
    EXPECT_NE(out.find("\nHWADDR=00:0C:29:2C:6F:79\nMTU=9000\n"), std::string::npos) << out;
    EXPECT_EQ(out.find("IPADDR"), std::string::npos);
    EXPECT_EQ(out.find("ONBOOT=no"), std::string::npos);
    EXPECT_EQ(render_external_ifcfg(out, lab3(), "ens34"), out);
}

TEST(NodeFiles, PackstacksOvsPortIsRecognised) {
    EXPECT_TRUE(
        ifcfg_is_ovs_port("DEVICE=ens34\nDEVICETYPE=ovs\nTYPE=OVSPort\nOVS_BRIDGE=br-ex\n"));
    EXPECT_TRUE(ifcfg_is_ovs_port("OVS_BRIDGE=br-ex"));
    EXPECT_FALSE(ifcfg_is_ovs_port(render_external_ifcfg("", lab3(), "ens34")));
}

TEST(NodeFiles, SelinuxConfigChangesOnlyTheModeLine) {
    std::string config =
        "# This file controls the state of SELinux on the system.\n"
        "SELINUX=enforcing\n"
        "# SELINUXTYPE= can take one of three values:\n"
        "SELINUXTYPE=targeted\n";
    std::string expected =
        "# This file controls the state of SELinux on the system.\n"
        "SELINUX=disabled\n"
        "# SELINUXTYPE= can take one of three values:\n"
        "SELINUXTYPE=targeted\n";
    EXPECT_EQ(set_selinux_config(config, "disabled"), expected);
    EXPECT_EQ(set_selinux_config(expected, "disabled"), expected);
    EXPECT_EQ(set_selinux_config("SELINUXTYPE=targeted\n", "permissive"),
              "SELINUXTYPE=targeted\nSELINUX=permissive\n");
}

TEST(NodeFiles, TrackingOfASynchronisedNode) {
    auto t = parse_chrony_tracking(
        "Reference ID    : C0A86F0A (192.168.111.10)\n"
        "Stratum         : 11\n"
        "Ref time (UTC)  : Tue Mar 05 10:11:12 2024\n"
        "System time     : 0.000012345 seconds fast of NTP time\n"
        "Last offset     : +0.000001234 seconds\n"
        "RMS offset      : 0.000004321 seconds\n"
        "Frequency       : 12.345 ppm slow\n"
        "Residual freq   : +0.001 ppm\n"
        "Skew            : 0.045 ppm\n"
        "Root delay      : 0.000456 seconds\n"
        "Root dispersion : 0.000789 seconds\n"
        "Update interval : 64.5 seconds\n"
        "Leap status     : Normal\n");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->reference_id, "C0A86F0A");
    EXPECT_EQ(t->reference_name, "192.168.111.10");
    EXPECT_EQ(t->stratum, 11);
    ASSERT_TRUE(t->offset);
    EXPECT_DOUBLE_EQ(*t->offset, 0.000012345);
    EXPECT_EQ(t->leap_status, "Normal");
    EXPECT_TRUE(t->synchronised_to_source());
    EXPECT_FALSE(t->local_reference());
}

TEST(NodeFiles, TrackingSlowIsANegativeOffset) {
    auto t = parse_chrony_tracking(
        "Reference ID    : C0A86F0A (192.168.111.10)\n"
        "System time     : 1.250000000 seconds slow of NTP time\n"
        "Leap status     : Normal\n");
    ASSERT_TRUE(t && t->offset);
    EXPECT_DOUBLE_EQ(*t->offset, -1.25);
}

TEST(NodeFiles, TrackingBeforeTheFirstSync) {
    auto t = parse_chrony_tracking(
        "Reference ID    : 00000000 ()\n"
        "Stratum         : 0\n"
        "Ref time (UTC)  : Thu Jan 01 00:00:00 1970\n"
        "System time     : 0.000000000 seconds fast of NTP time\n"
        "Leap status     : Not synchronised\n");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->reference_id, "00000000");
    EXPECT_EQ(t->reference_name, "");
    EXPECT_EQ(t->stratum, 0);
    EXPECT_FALSE(t->synchronised());
    EXPECT_FALSE(t->synchronised_to_source());
}

TEST(NodeFiles, TrackingOfTheLocalClock) {
    auto t = parse_chrony_tracking(
        "Reference ID    : 7F7F0101 ()\n"
        "Stratum         : 10\n"
        "Leap status     : Normal\n");
    ASSERT_TRUE(t);
    EXPECT_TRUE(t->local_reference());
    EXPECT_TRUE(t->synchronised());
    EXPECT_FALSE(t->synchronised_to_source());
}

TEST(NodeFiles, TrackingOfChrony2OnOldEl7) {
    // chrony 2.x printed the reference as an address, not as a hex id.
    auto t = parse_chrony_tracking(
        "Reference ID    : 192.168.111.10 (192.168.111.10)\n"
        "Stratum         : 11\n"
        "System time     : 0.000000500 seconds slow of NTP time\n"
        "Some new field  : whatever it says\n"
        "Leap status     : Normal\n");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->reference_id, "192.168.111.10");
    EXPECT_TRUE(t->synchronised_to_source());
    EXPECT_DOUBLE_EQ(t->offset.value_or(0), -0.0000005);
    auto local = parse_chrony_tracking("Reference ID    : 127.127.1.1 ()\nLeap status : Normal\n");
    ASSERT_TRUE(local);
    EXPECT_TRUE(local->local_reference());
}

TEST(NodeFiles, TrackingThatIsNotTrackingIsNothing) {
    EXPECT_FALSE(parse_chrony_tracking("506 Cannot talk to daemon\n"));
    EXPECT_FALSE(parse_chrony_tracking(""));
    auto odd = parse_chrony_tracking("Leap status : Normal\nStratum : many\nSystem time : x\n");
    ASSERT_TRUE(odd);
    EXPECT_FALSE(odd->stratum);
    EXPECT_FALSE(odd->offset);
}
