// Private to the site parser: the one way it reads a key (look it up, check its type, convert
// it, record where it was, check it, report every problem at the value).
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "site/net.hpp"
#include "site/yaml_reader.hpp"

namespace airstrap::site {

// Whether a key must be there. `nullable`: it may be left out or set to nothing ('key: ~').
enum class Need { optional, required, nullable };

// A key of a map: its name, whether it must be there, and where to record its value's
// location (for checks that come later, in validate).
struct Key {
    const char* name;
    Need need = Need::optional;
    SourceLocation* at = nullptr;
};

// Converts a value, reporting a wrong type or form. `path` is the key's path for messages
// ("nodes[0].name"), which quote it.
template <typename T>
using As = std::function<std::optional<T>(const YAML::Node& value, const std::string& path)>;

// What a converted value must also satisfy: the error to report at the value, or nothing.
template <typename T>
using Check = std::function<std::optional<std::string>(const T& value)>;

// A check on a string: `ok(value)`, else the error `message(value)`.
inline Check<std::string> must(std::function<bool(const std::string&)> ok,
                               std::function<std::string(const std::string&)> message) {
    return [ok = std::move(ok),
            message = std::move(message)](const std::string& v) -> std::optional<std::string> {
        if (ok(v)) return std::nullopt;
        return message(v);
    };
}

class KeyReader {
  public:
    // `dir` anchors relative paths (the site file's folder).
    KeyReader(YamlReader& yaml, std::filesystem::path dir) : yaml_(yaml), dir_(std::move(dir)) {}

    YamlReader& yaml() { return yaml_; }
    Diagnostics& diag() { return yaml_.diag(); }

    // The key `key` of `m`: missing is reported when required; otherwise its location goes
    // to key.at, `as` converts it and `check` may report it. A value that fails `check` is
    // still returned, as written (the model is only used when there are no errors); to keep
    // it out, check it inside the conversion (rejecting()).
    template <typename T>
    std::optional<T> read(const YamlMap& m, Key key, const As<T>& as,
                          const std::type_identity_t<Check<T>>& check = {}) {
        YAML::Node n = key.need == Need::required ? m.require(key.name) : m.get(key.name);
        if (!n.IsDefined() || (key.need == Need::nullable && n.IsNull())) return std::nullopt;
        if (key.at) *key.at = location_of(n);
        auto value = as(n, m.path(key.name));
        if (value && check) {
            if (auto error = check(*value)) diag().error(location_of(n), *error);
        }
        return value;
    }

    // read() into `field`; true when a value was stored.
    template <typename T, typename Field>
    bool set(const YamlMap& m, Key key, Field& field, const As<T>& as,
             const std::type_identity_t<Check<T>>& check = {}) {
        auto value = read(m, key, as, check);
        if (value) field = std::move(*value);
        return value.has_value();
    }

    // The items of the list under `key` (nothing or absent: none), each converted by `as`;
    // items that are not strings or do not convert are reported and left out.
    template <typename T>
    std::vector<std::pair<T, YAML::Node>> list(const YamlMap& m, const char* key, const As<T>& as) {
        std::vector<std::pair<T, YAML::Node>> out;
        for (const auto& [s, item] : yaml_.string_list(m.get(key), quoted(m.path(key)))) {
            if (auto v = as(item, m.path(key))) out.emplace_back(std::move(*v), item);
        }
        return out;
    }

    // ---- conversions ----
    As<std::string> text();
    As<bool> flag();
    // An integer from `min` to `max`; `unit` follows the key in messages (" (seconds)").
    As<int> number(long long min, long long max, std::string unit = "");
    template <typename Enum>
    As<Enum> one_of(std::vector<std::pair<const char*, Enum>> options) {
        return [this, options = std::move(options)](const YAML::Node& n, const std::string& path) {
            return yaml_.choice<Enum>(n, quoted(path), options);
        };
    }
    As<Ipv4> ipv4();
    As<Cidr> cidr();
    As<Ipv6> ipv6();
    As<Cidr6> cidr6();
    As<std::string> mac();
    // A file name, absolute or relative to the site file's folder; normalised.
    As<std::string> file();
    // `as`, then `check`: a value that fails it is reported and not returned.
    template <typename T>
    As<T> rejecting(As<T> as, Check<T> check) {
        return [this, as = std::move(as), check = std::move(check)](const YAML::Node& n,
                                                                    const std::string& path) {
            auto value = as(n, path);
            if (!value) return value;
            if (auto error = check(*value)) {
                diag().error(location_of(n), *error);
                return std::optional<T>();
            }
            return value;
        };
    }

    std::string resolve(const std::string& path) const;
    static std::string quoted(const std::string& path) { return "'" + path + "'"; }

  private:
    YamlReader& yaml_;
    std::filesystem::path dir_;
};

}  // namespace airstrap::site
