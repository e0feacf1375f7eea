// IPv4 addresses, CIDR blocks and MAC addresses as the site file writes them.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace airstrap::site {

struct Ipv4 {
    std::uint32_t value = 0;

    // Dotted quad, no leading zeros (010 is ambiguous: octal to some tools).
    static std::optional<Ipv4> parse(std::string_view text);
    std::string str() const;
    auto operator<=>(const Ipv4&) const = default;
};

struct Cidr {
    Ipv4 base;
    int prefix = 0;

    // "a.b.c.d/n" with host bits zero; `error` says what is wrong otherwise.
    static std::optional<Cidr> parse(std::string_view text, std::string& error);
    std::uint32_t mask() const { return prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix); }
    Ipv4 netmask() const { return {mask()}; }
    Ipv4 broadcast() const { return {base.value | ~mask()}; }
    bool contains(Ipv4 ip) const { return (ip.value & mask()) == base.value; }
    bool overlaps(const Cidr& other) const {
        int p = prefix < other.prefix ? prefix : other.prefix;
        std::uint32_t m = p == 0 ? 0 : ~std::uint32_t{0} << (32 - p);
        return (base.value & m) == (other.base.value & m);
    }
    std::string str() const { return base.str() + "/" + std::to_string(prefix); }
};

// IPv6 addresses and prefixes (inet_pton/inet_ntop: RFC 4291 text in, RFC 5952 text out).
struct Ipv6 {
    std::array<std::uint8_t, 16> bytes{};

    // No zone index ("%eth0") and no embedded IPv4 form: a site file names global or
    // unique-local addresses.
    static std::optional<Ipv6> parse(std::string_view text);
    std::string str() const;  // canonical (RFC 5952): lower case, "::" for the longest zero run
    auto operator<=>(const Ipv6&) const = default;
};

struct Cidr6 {
    Ipv6 base;
    int prefix = 0;

    // "fd00:20::/64" with host bits zero, prefix /16 to /126; `error` says what is wrong.
    static std::optional<Cidr6> parse(std::string_view text, std::string& error);
    bool contains(const Ipv6& ip) const;
    bool overlaps(const Cidr6& other) const;
    // The subnet-router anycast address (all host bits zero) is not a host's.
    bool is_subnet_anycast(const Ipv6& ip) const { return ip == base; }
    std::string str() const { return base.str() + "/" + std::to_string(prefix); }
};

// "00:0c:29:2c:6f:6f" (colons or dashes, any case) → lower case with colons; `error` says
// what is wrong otherwise (syntax, multicast, all zeros).
std::optional<std::string> parse_mac(std::string_view text, std::string& error);

// RFC 1123 host name label(s): letters, digits, hyphens; no leading/trailing hyphen.
bool is_valid_hostname(std::string_view name);
bool is_valid_domain(std::string_view name);

// Interface (and bridge, disk) names: 1..15 of letters, digits, '.', '-', '_'.
bool is_valid_interface_name(std::string_view name);

}  // namespace airstrap::site
