// Strict, schema-directed reading of a yaml-cpp document into diagnostics: every map
// declares its keys (unknown ones get "did you mean"), duplicates are reported, scalars are
// typed strictly (YAML 1.2 booleans only, no "yes"), and nothing recurses into structure
// that the schema does not know, so an alias bomb costs nothing.
#pragma once

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/diagnostics.hpp"

namespace airstrap::site {

SourceLocation location_of(const YAML::Node& node);

class YamlMap;

class YamlReader {
  public:
    // `document` names the top level in messages: "the site file", "the secrets file".
    YamlReader(Diagnostics& diag, std::string document)
        : diag_(diag), document_(std::move(document)) {}

    Diagnostics& diag() { return diag_; }
    const std::string& document() const { return document_; }

    // `what` names the value in messages, e.g. "'site.distro'".
    std::optional<std::string> string(const YAML::Node& node, std::string_view what);
    std::optional<bool> boolean(const YAML::Node& node, std::string_view what);
    std::optional<long long> integer(const YAML::Node& node, std::string_view what, long long min,
                                     long long max);
    std::vector<std::pair<std::string, YAML::Node>> string_list(const YAML::Node& node,
                                                                std::string_view what);

    template <typename Enum>
    std::optional<Enum> choice(const YAML::Node& node, std::string_view what,
                               const std::vector<std::pair<const char*, Enum>>& options);

    bool is_sequence(const YAML::Node& node, std::string_view what);

  private:
    std::optional<std::string> choice_name(const YAML::Node& node, std::string_view what,
                                           const std::vector<std::string>& names);
    Diagnostics& diag_;
    std::string document_;
};

// A map whose keys the caller knows. Constructing it reports a non-map value, duplicate
// keys and unknown keys. With no keys declared, any key is accepted (the keys are names,
// as under 'networks'), and only duplicates are reported.
class YamlMap {
  public:
    YamlMap(YamlReader& reader, const YAML::Node& node, std::string what,
            std::initializer_list<const char*> keys);

    bool valid() const { return valid_; }
    SourceLocation where() const { return location_of(node_); }
    // The value under `key`, or an undefined node.
    YAML::Node get(const char* key) const;
    bool has(const char* key) const { return get(key).IsDefined(); }
    // As get(), but reports the key as missing.
    YAML::Node require(const char* key) const;
    const std::string& what() const { return what_; }
    std::string path(const char* key) const { return what_.empty() ? key : what_ + "." + key; }

  private:
    YamlReader& reader_;
    YAML::Node node_;
    std::string what_;
    std::vector<std::pair<std::string, YAML::Node>> entries_;
    bool valid_ = false;
};

template <typename Enum>
std::optional<Enum> YamlReader::choice(const YAML::Node& node, std::string_view what,
                                       const std::vector<std::pair<const char*, Enum>>& options) {
    std::vector<std::string> names;
    for (const auto& [name, value] : options) names.emplace_back(name);
    auto picked = choice_name(node, what, names);
    if (!picked) return std::nullopt;
    for (const auto& [name, value] : options) {
        if (*picked == name) return value;
    }
    return std::nullopt;
}

}  // namespace airstrap::site
