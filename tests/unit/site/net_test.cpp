#include "site/net.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace airstrap::site {
namespace {

// ---- Ipv6 ----------------------------------------------------------------------------------

TEST(Ipv6Parse, CanonicalFormOut) {
    auto ip = Ipv6::parse("FD00:0020:0000:0000:0000:0000:0000:0011");
    ASSERT_TRUE(ip);
    EXPECT_EQ(ip->str(), "fd00:20::11");  // RFC 5952: lower case, longest zero run as ::
    EXPECT_EQ(Ipv6::parse("2001:db8:0:0:1:0:0:1")->str(), "2001:db8::1:0:0:1");
    EXPECT_EQ(ip->bytes[0], 0xFD);
    EXPECT_EQ(ip->bytes[15], 0x11);
}

TEST(Ipv6Parse, RefusesWhatASiteNeverWrites) {
    EXPECT_FALSE(Ipv6::parse(""));
    EXPECT_FALSE(Ipv6::parse("fd00::1%eth0"));      // zone index
    EXPECT_FALSE(Ipv6::parse("::ffff:192.0.2.1"));  // embedded IPv4
    EXPECT_FALSE(Ipv6::parse("fd00:::1"));
    EXPECT_FALSE(Ipv6::parse("fd00::1::2"));
    EXPECT_FALSE(Ipv6::parse("fd00:12345::1"));
    EXPECT_FALSE(Ipv6::parse("192.168.1.1"));
}

TEST(Cidr6Parse, PrefixHostBitsAndRange) {
    std::string error;
    auto c = Cidr6::parse("fd00:20::/64", error);
    ASSERT_TRUE(c) << error;
    EXPECT_EQ(c->prefix, 64);
    EXPECT_EQ(c->str(), "fd00:20::/64");
    EXPECT_TRUE(c->contains(*Ipv6::parse("fd00:20::11")));
    EXPECT_TRUE(c->contains(*Ipv6::parse("fd00:20::ffff:ffff:ffff:ffff")));
    EXPECT_FALSE(c->contains(*Ipv6::parse("fd00:20:0:1::11")));
    EXPECT_TRUE(c->is_subnet_anycast(*Ipv6::parse("fd00:20::")));

    EXPECT_FALSE(Cidr6::parse("fd00:20::1/64", error));
    EXPECT_EQ(error, "'fd00:20::1/64' has host bits set; did you mean 'fd00:20::/64'?");
    EXPECT_FALSE(Cidr6::parse("fd00:20::/8", error));
    EXPECT_EQ(error,
              "prefix length '/8' is out of range; a node network needs /16 to /126 (usually /64)");
    EXPECT_FALSE(Cidr6::parse("fd00:20::", error));
    EXPECT_EQ(error,
              "expected an IPv6 network such as fd00:20::/64, got 'fd00:20::' (no prefix length)");
    EXPECT_FALSE(Cidr6::parse("10.0.0.0/64", error));
    EXPECT_EQ(error, "'10.0.0.0' is not an IPv6 address");
    // Host bits in the middle of a byte (/60).
    EXPECT_FALSE(Cidr6::parse("fd00:20:0:8::/60", error));
    EXPECT_TRUE(Cidr6::parse("fd00:20:0:10::/60", error)) << error;
    EXPECT_FALSE(Cidr6::parse("fd00:20:0:18::/60", error));
    EXPECT_EQ(error, "'fd00:20:0:18::/60' has host bits set; did you mean 'fd00:20:0:10::/60'?");
}

TEST(Cidr6, Overlaps) {
    std::string e;
    auto a = *Cidr6::parse("fd00:20::/48", e);
    auto b = *Cidr6::parse("fd00:20:0:2::/64", e);
    auto c = *Cidr6::parse("fd00:21::/64", e);
    EXPECT_TRUE(a.overlaps(b));
    EXPECT_TRUE(b.overlaps(a));
    EXPECT_FALSE(a.overlaps(c));
}

// ---- Ipv4 ----------------------------------------------------------------------------------

TEST(Ipv4Parse, DottedQuad) {
    auto ip = Ipv4::parse("192.168.111.10");
    ASSERT_TRUE(ip);
    EXPECT_EQ(ip->value, 0xC0A86F0Au);
    EXPECT_EQ(ip->str(), "192.168.111.10");
}

TEST(Ipv4Parse, Extremes) {
    ASSERT_TRUE(Ipv4::parse("0.0.0.0"));
    EXPECT_EQ(Ipv4::parse("0.0.0.0")->value, 0u);
    ASSERT_TRUE(Ipv4::parse("255.255.255.255"));
    EXPECT_EQ(Ipv4::parse("255.255.255.255")->value, 0xFFFFFFFFu);
    EXPECT_EQ(Ipv4::parse("10.0.0.1")->str(), "10.0.0.1");
}

TEST(Ipv4Parse, LeadingZerosRejected) {
    EXPECT_FALSE(Ipv4::parse("010.0.0.1"));
    EXPECT_FALSE(Ipv4::parse("10.00.0.1"));
    EXPECT_FALSE(Ipv4::parse("10.0.0.01"));
    EXPECT_FALSE(Ipv4::parse("192.168.001.1"));
}

TEST(Ipv4Parse, OctetAbove255Rejected) {
    EXPECT_FALSE(Ipv4::parse("192.168.1.256"));
    EXPECT_FALSE(Ipv4::parse("256.0.0.1"));
    EXPECT_FALSE(Ipv4::parse("1.2.3.1000"));
}

TEST(Ipv4Parse, WrongNumberOfPartsRejected) {
    EXPECT_FALSE(Ipv4::parse("192.168.1"));
    EXPECT_FALSE(Ipv4::parse("1.2.3.4.5"));
    EXPECT_FALSE(Ipv4::parse("1"));
    EXPECT_FALSE(Ipv4::parse(""));
}

TEST(Ipv4Parse, JunkRejected) {
    EXPECT_FALSE(Ipv4::parse("1..2.3"));
    EXPECT_FALSE(Ipv4::parse("1.2.3."));
    EXPECT_FALSE(Ipv4::parse("a.b.c.d"));
    EXPECT_FALSE(Ipv4::parse("1.2.3.4 "));
    EXPECT_FALSE(Ipv4::parse(" 1.2.3.4"));
    EXPECT_FALSE(Ipv4::parse("-1.2.3.4"));
    EXPECT_FALSE(Ipv4::parse("+1.2.3.4"));
    EXPECT_FALSE(Ipv4::parse("1.2.3.4/24"));
    EXPECT_FALSE(Ipv4::parse("0x1.2.3.4"));
}

TEST(Ipv4, Ordering) {
    EXPECT_LT(*Ipv4::parse("10.0.0.9"), *Ipv4::parse("10.0.0.10"));
    EXPECT_LT(*Ipv4::parse("9.255.255.255"), *Ipv4::parse("10.0.0.0"));
    EXPECT_EQ(*Ipv4::parse("10.0.0.1"), Ipv4{0x0A000001});
}

// ---- Cidr ----------------------------------------------------------------------------------

TEST(CidrParse, NetworkWithPrefix) {
    std::string error;
    auto c = Cidr::parse("192.168.111.0/24", error);
    ASSERT_TRUE(c) << error;
    EXPECT_EQ(c->base.str(), "192.168.111.0");
    EXPECT_EQ(c->prefix, 24);
    EXPECT_EQ(c->str(), "192.168.111.0/24");
}

TEST(CidrParse, MissingPrefixError) {
    std::string error;
    EXPECT_FALSE(Cidr::parse("192.168.111.0", error));
    EXPECT_EQ(error,
              "expected an IPv4 network such as 192.168.111.0/24, got '192.168.111.0' "
              "(no prefix length)");
}

TEST(CidrParse, HostBitsSetSuggestsTheNetwork) {
    std::string error;
    EXPECT_FALSE(Cidr::parse("192.168.111.5/24", error));
    EXPECT_EQ(error, "'192.168.111.5/24' has host bits set; did you mean '192.168.111.0/24'?");
    EXPECT_FALSE(Cidr::parse("10.1.2.3/8", error));
    EXPECT_EQ(error, "'10.1.2.3/8' has host bits set; did you mean '10.0.0.0/8'?");
    EXPECT_FALSE(Cidr::parse("172.16.5.4/22", error));
    EXPECT_EQ(error, "'172.16.5.4/22' has host bits set; did you mean '172.16.4.0/22'?");
}

TEST(CidrParse, PrefixOutOfRangeError) {
    std::string error;
    EXPECT_FALSE(Cidr::parse("10.0.0.0/31", error));
    EXPECT_EQ(error, "prefix length '/31' is out of range; a node network needs /8 to /30");
    EXPECT_FALSE(Cidr::parse("10.0.0.0/7", error));
    EXPECT_EQ(error, "prefix length '/7' is out of range; a node network needs /8 to /30");
    EXPECT_FALSE(Cidr::parse("10.0.0.0/33", error));
    EXPECT_EQ(error, "prefix length '/33' is out of range; a node network needs /8 to /30");
    EXPECT_FALSE(Cidr::parse("0.0.0.0/0", error));
    EXPECT_EQ(error, "prefix length '/0' is out of range; a node network needs /8 to /30");
}

TEST(CidrParse, PrefixNotANumber) {
    std::string error;
    EXPECT_FALSE(Cidr::parse("10.0.0.0/", error));
    EXPECT_EQ(error, "prefix length '/' is out of range; a node network needs /8 to /30");
    EXPECT_FALSE(Cidr::parse("10.0.0.0/2x", error));
    EXPECT_EQ(error, "prefix length '/2x' is out of range; a node network needs /8 to /30");
    EXPECT_FALSE(Cidr::parse("10.0.0.0/-8", error));
}

TEST(CidrParse, BadAddressError) {
    std::string error;
    EXPECT_FALSE(Cidr::parse("300.1.1.0/24", error));
    EXPECT_EQ(error, "'300.1.1.0' is not an IPv4 address");
}

TEST(CidrParse, RangeLimitsAccepted) {
    std::string error;
    auto wide = Cidr::parse("10.0.0.0/8", error);
    ASSERT_TRUE(wide) << error;
    EXPECT_EQ(wide->netmask().str(), "255.0.0.0");
    auto narrow = Cidr::parse("192.168.1.4/30", error);
    ASSERT_TRUE(narrow) << error;
    EXPECT_EQ(narrow->netmask().str(), "255.255.255.252");
    EXPECT_EQ(narrow->broadcast().str(), "192.168.1.7");
}

TEST(Cidr, NetmaskAndBroadcast) {
    std::string error;
    auto c = Cidr::parse("192.168.111.0/24", error);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->netmask().str(), "255.255.255.0");
    EXPECT_EQ(c->broadcast().str(), "192.168.111.255");
    EXPECT_EQ(c->mask(), 0xFFFFFF00u);
    auto d = Cidr::parse("172.16.0.0/12", error);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->netmask().str(), "255.240.0.0");
    EXPECT_EQ(d->broadcast().str(), "172.31.255.255");
}

TEST(Cidr, Contains) {
    std::string error;
    auto c = Cidr::parse("192.168.111.0/24", error);
    ASSERT_TRUE(c);
    EXPECT_TRUE(c->contains(*Ipv4::parse("192.168.111.0")));
    EXPECT_TRUE(c->contains(*Ipv4::parse("192.168.111.1")));
    EXPECT_TRUE(c->contains(*Ipv4::parse("192.168.111.255")));
    EXPECT_FALSE(c->contains(*Ipv4::parse("192.168.112.0")));
    EXPECT_FALSE(c->contains(*Ipv4::parse("192.168.110.255")));
    EXPECT_FALSE(c->contains(*Ipv4::parse("10.0.0.1")));
}

TEST(Cidr, Overlaps) {
    std::string error;
    auto ten = *Cidr::parse("10.0.0.0/8", error);
    auto ten_one = *Cidr::parse("10.1.0.0/16", error);
    auto lan1 = *Cidr::parse("192.168.1.0/24", error);
    auto lan2 = *Cidr::parse("192.168.2.0/24", error);
    auto lan_wide = *Cidr::parse("192.168.0.0/22", error);
    EXPECT_TRUE(ten.overlaps(ten_one));
    EXPECT_TRUE(ten_one.overlaps(ten));
    EXPECT_TRUE(lan1.overlaps(lan1));
    EXPECT_FALSE(lan1.overlaps(lan2));
    EXPECT_FALSE(lan2.overlaps(lan1));
    EXPECT_FALSE(ten.overlaps(lan1));
    EXPECT_TRUE(lan_wide.overlaps(lan1));
    EXPECT_TRUE(lan2.overlaps(lan_wide));
    EXPECT_FALSE(lan_wide.overlaps(*Cidr::parse("192.168.4.0/24", error)));
}

// ---- parse_mac -----------------------------------------------------------------------------

TEST(ParseMac, ColonsLowerCaseUnchanged) {
    std::string error;
    EXPECT_EQ(parse_mac("00:0c:29:2c:6f:6f", error),
              std::optional<std::string>("00:0c:29:2c:6f:6f"));
}

TEST(ParseMac, DashesAndUpperCaseNormalised) {
    std::string error;
    EXPECT_EQ(parse_mac("00-0C-29-2C-6F-6F", error),
              std::optional<std::string>("00:0c:29:2c:6f:6f"))
        << error;
    EXPECT_EQ(parse_mac("52:54:00:AB:cd:EF", error),
              std::optional<std::string>("52:54:00:ab:cd:ef"))
        << error;
}

TEST(ParseMac, MixedSeparatorsRejected) {
    std::string error;
    EXPECT_FALSE(parse_mac("00:0c-29:2c:6f:6f", error));
    EXPECT_NE(error.find("is not a MAC address"), std::string::npos) << error;
    EXPECT_FALSE(parse_mac("00.0c.29.2c.6f.6f", error));
    EXPECT_NE(error.find("is not a MAC address"), std::string::npos) << error;
}

TEST(ParseMac, MulticastRejected) {
    std::string error;
    EXPECT_FALSE(parse_mac("01:00:5e:00:00:01", error));
    EXPECT_EQ(error, "'01:00:5e:00:00:01' is a multicast address; a NIC has a unicast MAC");
    EXPECT_FALSE(parse_mac("ff:ff:ff:ff:ff:ff", error));  // broadcast has the bit too
    EXPECT_NE(error.find("multicast"), std::string::npos) << error;
    EXPECT_FALSE(parse_mac("03-00-00-00-00-00", error));
    EXPECT_NE(error.find("multicast"), std::string::npos) << error;
}

TEST(ParseMac, LocallyAdministeredUnicastAccepted) {
    std::string error;
    EXPECT_EQ(parse_mac("02:00:00:00:00:01", error),
              std::optional<std::string>("02:00:00:00:00:01"))
        << error;
}

TEST(ParseMac, AllZeroRejected) {
    std::string error;
    EXPECT_FALSE(parse_mac("00:00:00:00:00:00", error));
    EXPECT_EQ(error, "00:00:00:00:00:00 is not a usable MAC address");
    EXPECT_FALSE(parse_mac("00-00-00-00-00-00", error));
    EXPECT_EQ(error, "00:00:00:00:00:00 is not a usable MAC address");
}

TEST(ParseMac, WrongLengthRejected) {
    std::string error;
    EXPECT_FALSE(parse_mac("00:0c:29:2c:6f", error));
    EXPECT_EQ(error,
              "'00:0c:29:2c:6f' is not a MAC address (expected six pairs of hex digits, e.g. "
              "00:0c:29:2c:6f:6f)");
    EXPECT_FALSE(parse_mac("00:0c:29:2c:6f:6f:00", error));
    EXPECT_NE(error.find("is not a MAC address"), std::string::npos);
    EXPECT_FALSE(parse_mac("", error));
    EXPECT_NE(error.find("is not a MAC address"), std::string::npos);
    EXPECT_FALSE(parse_mac("000c292c6f6f", error));
    EXPECT_NE(error.find("is not a MAC address"), std::string::npos);
}

TEST(ParseMac, NonHexDigitRejected) {
    std::string error;
    EXPECT_FALSE(parse_mac("00:0c:29:2c:6f:6g", error));
    EXPECT_EQ(error, "'00:0c:29:2c:6f:6g' is not a MAC address ('g' is not a hex digit)");
}

// ---- names ---------------------------------------------------------------------------------

TEST(Hostname, ValidLabels) {
    EXPECT_TRUE(is_valid_hostname("controller"));
    EXPECT_TRUE(is_valid_hostname("compute-01"));
    EXPECT_TRUE(is_valid_hostname("a"));
    EXPECT_TRUE(is_valid_hostname("1node"));
    EXPECT_TRUE(is_valid_hostname(std::string(63, 'a')));
}

TEST(Hostname, InvalidLabels) {
    EXPECT_FALSE(is_valid_hostname(std::string(64, 'a')));
    EXPECT_FALSE(is_valid_hostname("-web"));
    EXPECT_FALSE(is_valid_hostname("web-"));
    EXPECT_FALSE(is_valid_hostname(""));
    EXPECT_FALSE(is_valid_hostname("web_01"));
    EXPECT_FALSE(is_valid_hostname("web 01"));
    EXPECT_FALSE(is_valid_hostname("web.example.com"));  // one label, not a domain
    EXPECT_FALSE(is_valid_hostname("n\xC3\xA9ud"));
}

TEST(Domain, ValidDomains) {
    EXPECT_TRUE(is_valid_domain("example.com"));
    EXPECT_TRUE(is_valid_domain("lab.example.org"));
    EXPECT_TRUE(is_valid_domain("localdomain"));
    EXPECT_TRUE(is_valid_domain("a-b.c-d.e"));
    EXPECT_TRUE(is_valid_domain(std::string(63, 'a') + ".com"));
}

TEST(Domain, InvalidDomains) {
    EXPECT_FALSE(is_valid_domain(""));
    EXPECT_FALSE(is_valid_domain("example..com"));
    EXPECT_FALSE(is_valid_domain(".example.com"));
    EXPECT_FALSE(is_valid_domain("example.com."));
    EXPECT_FALSE(is_valid_domain("-lab.example.com"));
    EXPECT_FALSE(is_valid_domain("lab-.example.com"));
    EXPECT_FALSE(is_valid_domain("lab_1.example.com"));
    EXPECT_FALSE(is_valid_domain(std::string(64, 'a') + ".com"));
}

TEST(Domain, TotalLengthCappedAt253) {
    // Four labels of 63 with three dots are 255 characters; trim to exactly 253 and 254.
    std::string l63(63, 'a');
    std::string d253 = l63 + "." + l63 + "." + l63 + "." + std::string(61, 'a');
    ASSERT_EQ(d253.size(), 253u);
    EXPECT_TRUE(is_valid_domain(d253));
    std::string d254 = l63 + "." + l63 + "." + l63 + "." + std::string(62, 'a');
    ASSERT_EQ(d254.size(), 254u);
    EXPECT_FALSE(is_valid_domain(d254));
}

TEST(InterfaceName, Valid) {
    EXPECT_TRUE(is_valid_interface_name("eth0"));
    EXPECT_TRUE(is_valid_interface_name("ens192"));
    EXPECT_TRUE(is_valid_interface_name("br-ex"));
    EXPECT_TRUE(is_valid_interface_name("bond0.100"));
    EXPECT_TRUE(is_valid_interface_name("virbr_0"));
    EXPECT_TRUE(is_valid_interface_name(std::string(15, 'e')));
}

TEST(InterfaceName, Invalid) {
    EXPECT_FALSE(is_valid_interface_name(std::string(16, 'e')));
    EXPECT_FALSE(is_valid_interface_name("ens$x"));
    EXPECT_FALSE(is_valid_interface_name(""));
    EXPECT_FALSE(is_valid_interface_name("."));
    EXPECT_FALSE(is_valid_interface_name(".."));
    EXPECT_FALSE(is_valid_interface_name("eth 0"));
    EXPECT_FALSE(is_valid_interface_name("eth/0"));
    EXPECT_FALSE(is_valid_interface_name("eth0;reboot"));
    EXPECT_FALSE(is_valid_interface_name("eth0:1"));
}

}  // namespace
}  // namespace airstrap::site
