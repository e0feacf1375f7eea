#include "site/key_reader.hpp"

namespace airstrap::site {

As<std::string> KeyReader::text() {
    return [this](const YAML::Node& n, const std::string& path) {
        return yaml_.string(n, quoted(path));
    };
}

As<bool> KeyReader::flag() {
    return [this](const YAML::Node& n, const std::string& path) {
        return yaml_.boolean(n, quoted(path));
    };
}

As<int> KeyReader::number(long long min, long long max, std::string unit) {
    return [this, min, max, unit = std::move(unit)](const YAML::Node& n,
                                                    const std::string& path) -> std::optional<int> {
        auto v = yaml_.integer(n, quoted(path) + unit, min, max);
        if (!v) return std::nullopt;
        return static_cast<int>(*v);
    };
}

As<Ipv4> KeyReader::ipv4() {
    return [this](const YAML::Node& n, const std::string& path) -> std::optional<Ipv4> {
        auto s = yaml_.string(n, quoted(path));
        if (!s) return std::nullopt;
        auto ip = Ipv4::parse(*s);
        if (!ip) {
            diag().error(location_of(n), "'" + *s +
                                             "' is not an IPv4 address (expected four "
                                             "numbers 0-255 such as 192.168.111.10)");
        }
        return ip;
    };
}

As<Cidr> KeyReader::cidr() {
    return [this](const YAML::Node& n, const std::string& path) -> std::optional<Cidr> {
        auto s = yaml_.string(n, quoted(path));
        if (!s) return std::nullopt;
        std::string error;
        auto c = Cidr::parse(*s, error);
        if (!c) diag().error(location_of(n), error);
        return c;
    };
}

As<Ipv6> KeyReader::ipv6() {
    return [this](const YAML::Node& n, const std::string& path) -> std::optional<Ipv6> {
        auto s = yaml_.string(n, quoted(path));
        if (!s) return std::nullopt;
        auto ip = Ipv6::parse(*s);
        if (!ip) {
            diag().error(location_of(n), "'" + *s +
                                             "' is not an IPv6 address (expected eight groups "
                                             "of hex digits, '::' for zeros, such as fd00:20::11)");
        }
        return ip;
    };
}

As<Cidr6> KeyReader::cidr6() {
    return [this](const YAML::Node& n, const std::string& path) -> std::optional<Cidr6> {
        auto s = yaml_.string(n, quoted(path));
        if (!s) return std::nullopt;
        std::string error;
        auto c = Cidr6::parse(*s, error);
        if (!c) diag().error(location_of(n), error);
        return c;
    };
}

As<std::string> KeyReader::mac() {
    return [this](const YAML::Node& n, const std::string& path) -> std::optional<std::string> {
        auto s = yaml_.string(n, quoted(path));
        if (!s) return std::nullopt;
        std::string error;
        auto mac = parse_mac(*s, error);
        if (!mac) diag().error(location_of(n), error);
        return mac;
    };
}

As<std::string> KeyReader::file() {
    return [this](const YAML::Node& n, const std::string& path) -> std::optional<std::string> {
        auto s = yaml_.string(n, quoted(path));
        if (!s) return std::nullopt;
        return resolve(*s);
    };
}

std::string KeyReader::resolve(const std::string& path) const {
    std::filesystem::path p(path);
    return (p.is_absolute() ? p : dir_ / p).lexically_normal().string();
}

}  // namespace airstrap::site
