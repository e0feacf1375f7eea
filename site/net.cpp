#include "site/net.hpp"

#include <arpa/inet.h>

#include <cctype>
#include <charconv>
#include <cstring>

#include "common/text.hpp"

namespace airstrap::site {

std::optional<Ipv4> Ipv4::parse(std::string_view text) {
    auto parts = text::split(text, '.');
    if (parts.size() != 4) return std::nullopt;
    std::uint32_t value = 0;
    for (const auto& part : parts) {
        if (part.empty() || part.size() > 3) return std::nullopt;
        if (part.size() > 1 && part[0] == '0') return std::nullopt;
        unsigned octet = 0;
        auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), octet);
        if (ec != std::errc{} || end != part.data() + part.size() || octet > 255) {
            return std::nullopt;
        }
        value = value << 8 | octet;
    }
    return Ipv4{value};
}

std::string Ipv4::str() const {
    return std::to_string(value >> 24) + "." + std::to_string(value >> 16 & 0xFF) + "." +
           std::to_string(value >> 8 & 0xFF) + "." + std::to_string(value & 0xFF);
}

std::optional<Cidr> Cidr::parse(std::string_view text, std::string& error) {
    auto slash = text.find('/');
    if (slash == std::string_view::npos) {
        error = "expected an IPv4 network such as 192.168.111.0/24, got '" + std::string(text) +
                "' (no prefix length)";
        return std::nullopt;
    }
    auto ip = Ipv4::parse(text.substr(0, slash));
    if (!ip) {
        error = "'" + std::string(text.substr(0, slash)) + "' is not an IPv4 address";
        return std::nullopt;
    }
    std::string_view len = text.substr(slash + 1);
    int prefix = -1;
    auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), prefix);
    if (len.empty() || ec != std::errc{} || end != len.data() + len.size() || prefix < 8 ||
        prefix > 30) {
        error = "prefix length '/" + std::string(len) +
                "' is out of range; a node network needs /8 to /30";
        return std::nullopt;
    }
    Cidr c{*ip, prefix};
    if ((ip->value & c.mask()) != ip->value) {
        Cidr fixed{{ip->value & c.mask()}, prefix};
        error =
            "'" + std::string(text) + "' has host bits set; did you mean '" + fixed.str() + "'?";
        return std::nullopt;
    }
    return c;
}

std::optional<Ipv6> Ipv6::parse(std::string_view text) {
    // inet_pton accepts "::ffff:1.2.3.4"; a site's IPv6 address is never written that way.
    if (text.empty() || text.size() > 39 || text.find('.') != std::string_view::npos)
        return std::nullopt;
    std::string s(text);
    Ipv6 ip;
    if (::inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) != 1) return std::nullopt;
    return ip;
}

std::string Ipv6::str() const {
    char buf[INET6_ADDRSTRLEN];
    if (!::inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf)) return "::";
    return buf;
}

namespace {

// The mask of a prefix's bits within one byte, `bits` of them (clamped to 0…8).
std::uint8_t byte_mask(int bits) {
    if (bits <= 0) return 0;
    if (bits >= 8) return 0xFF;
    return static_cast<std::uint8_t>(0xFF << (8 - bits));
}

// Whether a and b agree on their first `prefix` bits.
bool same_prefix(const Ipv6& a, const Ipv6& b, int prefix) {
    for (int i = 0; i < 16 && prefix > 0; ++i, prefix -= 8) {
        std::uint8_t mask = byte_mask(prefix);
        if ((a.bytes[i] & mask) != (b.bytes[i] & mask)) return false;
    }
    return true;
}

}  // namespace

std::optional<Cidr6> Cidr6::parse(std::string_view text, std::string& error) {
    auto slash = text.find('/');
    if (slash == std::string_view::npos) {
        error = "expected an IPv6 network such as fd00:20::/64, got '" + std::string(text) +
                "' (no prefix length)";
        return std::nullopt;
    }
    auto ip = Ipv6::parse(text.substr(0, slash));
    if (!ip) {
        error = "'" + std::string(text.substr(0, slash)) + "' is not an IPv6 address";
        return std::nullopt;
    }
    std::string_view len = text.substr(slash + 1);
    int prefix = -1;
    auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), prefix);
    if (len.empty() || ec != std::errc{} || end != len.data() + len.size() || prefix < 16 ||
        prefix > 126) {
        error = "prefix length '/" + std::string(len) +
                "' is out of range; a node network needs /16 to /126 (usually /64)";
        return std::nullopt;
    }
    Cidr6 c{*ip, prefix};
    Ipv6 masked{};
    for (int i = 0, left = prefix; i < 16; ++i, left -= 8) {
        masked.bytes[i] = static_cast<std::uint8_t>(ip->bytes[i] & byte_mask(left));
    }
    if (masked != *ip) {
        error = "'" + std::string(text) + "' has host bits set; did you mean '" +
                Cidr6{masked, prefix}.str() + "'?";
        return std::nullopt;
    }
    return c;
}

bool Cidr6::contains(const Ipv6& ip) const {
    return same_prefix(base, ip, prefix);
}

bool Cidr6::overlaps(const Cidr6& other) const {
    return same_prefix(base, other.base, prefix < other.prefix ? prefix : other.prefix);
}

std::optional<std::string> parse_mac(std::string_view text, std::string& error) {
    std::string out;
    std::uint8_t first = 0;
    bool all_zero = true;
    if (text.size() != 17) {
        error = "'" + std::string(text) + "' is not a MAC address (expected six pairs of hex " +
                "digits, e.g. 00:0c:29:2c:6f:6f)";
        return std::nullopt;
    }
    char sep = text[2];
    for (std::size_t i = 0; i < 17; ++i) {
        char c = text[i];
        if (i % 3 == 2) {
            if (c != sep || (sep != ':' && sep != '-')) {
                error = "'" + std::string(text) + "' is not a MAC address (expected six pairs " +
                        "of hex digits separated by ':', e.g. 00:0c:29:2c:6f:6f)";
                return std::nullopt;
            }
            out += ':';
            continue;
        }
        if (!std::isxdigit(static_cast<unsigned char>(c))) {
            error = "'" + std::string(text) + "' is not a MAC address ('" + std::string(1, c) +
                    "' is not a hex digit)";
            return std::nullopt;
        }
        char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out += lower;
        if (lower != '0') all_zero = false;
    }
    first = static_cast<std::uint8_t>(std::stoi(out.substr(0, 2), nullptr, 16));
    if (all_zero) {
        error = "00:00:00:00:00:00 is not a usable MAC address";
        return std::nullopt;
    }
    if (first & 1) {
        error = "'" + std::string(text) + "' is a multicast address; a NIC has a unicast MAC";
        return std::nullopt;
    }
    return out;
}

namespace {

bool is_label(std::string_view label) {
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    return true;
}

}  // namespace

bool is_valid_hostname(std::string_view name) {
    return is_label(name);
}

bool is_valid_domain(std::string_view name) {
    if (name.empty() || name.size() > 253) return false;
    for (const auto& label : text::split(name, '.')) {
        if (!is_label(label)) return false;
    }
    return true;
}

bool is_valid_interface_name(std::string_view name) {
    if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
    // The kernel allows more, but these names reach kickstart lines and shell scripts.
    for (char c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_')
            return false;
    }
    return true;
}

}  // namespace airstrap::site
