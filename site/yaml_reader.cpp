#include "site/yaml_reader.hpp"

#include <charconv>

#include "common/text.hpp"

namespace airstrap::site {

SourceLocation location_of(const YAML::Node& node) {
    if (!node.IsDefined()) return {};
    YAML::Mark m = node.Mark();
    if (m.line < 0) return {};
    return {m.line + 1, m.column + 1};
}

namespace {

const char* type_name(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Null:
            return "nothing";
        case YAML::NodeType::Scalar:
            return "a scalar";
        case YAML::NodeType::Sequence:
            return "a list";
        case YAML::NodeType::Map:
            return "a mapping";
        default:
            return "nothing";
    }
}

bool is_plain(const YAML::Node& node) {
    return node.Tag() == "?";
}

}  // namespace

std::optional<std::string> YamlReader::string(const YAML::Node& node, std::string_view what) {
    if (!node.IsScalar()) {
        diag_.error(location_of(node),
                    "expected a string for " + std::string(what) + ", got " + type_name(node));
        return std::nullopt;
    }
    return node.Scalar();
}

std::optional<bool> YamlReader::boolean(const YAML::Node& node, std::string_view what) {
    if (node.IsScalar() && is_plain(node)) {
        const std::string& s = node.Scalar();
        if (s == "true" || s == "True" || s == "TRUE") return true;
        if (s == "false" || s == "False" || s == "FALSE") return false;
    }
    std::string got = node.IsScalar() ? "'" + node.Scalar() + "'" : type_name(node);
    diag_.error(location_of(node),
                "expected true or false for " + std::string(what) + ", got " + got);
    return std::nullopt;
}

std::optional<long long> YamlReader::integer(const YAML::Node& node, std::string_view what,
                                             long long min, long long max) {
    if (node.IsScalar() && is_plain(node)) {
        const std::string& s = node.Scalar();
        long long value = 0;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
        if (ec == std::errc{} && end == s.data() + s.size() && !s.empty()) {
            if (value < min || value > max) {
                diag_.error(location_of(node), std::string(what) + " must be between " +
                                                   std::to_string(min) + " and " +
                                                   std::to_string(max) + ", got " + s);
                return std::nullopt;
            }
            return value;
        }
    }
    std::string got = node.IsScalar() ? "'" + node.Scalar() + "'" : type_name(node);
    diag_.error(location_of(node), "expected an integer for " + std::string(what) + ", got " + got);
    return std::nullopt;
}

bool YamlReader::is_sequence(const YAML::Node& node, std::string_view what) {
    if (node.IsSequence()) return true;
    diag_.error(location_of(node),
                "expected a list for " + std::string(what) + ", got " + type_name(node));
    return false;
}

std::vector<std::pair<std::string, YAML::Node>> YamlReader::string_list(const YAML::Node& node,
                                                                        std::string_view what) {
    std::vector<std::pair<std::string, YAML::Node>> out;
    if (!node.IsDefined() || node.IsNull()) return out;
    if (!is_sequence(node, what)) return out;
    for (const auto& item : node) {
        if (auto s = string(item, std::string(what) + " item")) out.emplace_back(*s, item);
    }
    return out;
}

std::optional<std::string> YamlReader::choice_name(const YAML::Node& node, std::string_view what,
                                                   const std::vector<std::string>& names) {
    auto s = string(node, what);
    if (!s) return std::nullopt;
    for (const auto& name : names) {
        if (*s == name) return s;
    }
    std::string message = "unknown value '" + *s + "' for " + std::string(what) + "; expected " +
                          text::join(names, ", ");
    if (auto near = text::closest(*s, names)) message += " (did you mean '" + *near + "'?)";
    diag_.error(location_of(node), message);
    return std::nullopt;
}

YamlMap::YamlMap(YamlReader& reader, const YAML::Node& node, std::string what,
                 std::initializer_list<const char*> keys)
    : reader_(reader), node_(node), what_(std::move(what)) {
    std::string label = what_.empty() ? reader_.document() : "'" + what_ + "'";
    if (!node.IsMap()) {
        reader_.diag().error(location_of(node), "expected a mapping (key: value) for " + label +
                                                    ", got " + type_name(node));
        return;
    }
    valid_ = true;
    std::vector<std::string> known(keys.begin(), keys.end());
    for (auto it = node.begin(); it != node.end(); ++it) {
        if (!it->first.IsScalar()) {
            reader_.diag().error(location_of(it->first), "keys must be plain words");
            continue;
        }
        const std::string& key = it->first.Scalar();
        bool duplicate = false;
        for (const auto& [seen, value] : entries_) {
            if (seen == key) {
                reader_.diag().error(location_of(it->first),
                                     "duplicate key '" + key + "' in " + label +
                                         " (first set on line " +
                                         std::to_string(location_of(value).line) + ")");
                duplicate = true;
                break;
            }
        }
        if (duplicate) continue;
        bool is_known = known.empty();  // no declared keys: names are data, e.g. networks
        for (const auto& k : known) is_known = is_known || k == key;
        if (!is_known) {
            std::string message = "unknown key '" + key + "' in " + label;
            if (auto near = text::closest(key, known)) {
                message += " (did you mean '" + *near + "'?)";
            } else {
                message += "; expected one of: " + text::join(known, ", ");
            }
            reader_.diag().error(location_of(it->first), message);
            continue;
        }
        entries_.emplace_back(key, it->second);
    }
}

YAML::Node YamlMap::get(const char* key) const {
    for (const auto& [k, v] : entries_) {
        if (k == key) return v;
    }
    return YAML::Node(YAML::NodeType::Undefined);
}

YAML::Node YamlMap::require(const char* key) const {
    YAML::Node v = get(key);
    if (!v.IsDefined() && valid_) {
        std::string label = what_.empty() ? reader_.document() : "'" + what_ + "'";
        reader_.diag().error(where(),
                             "missing required key '" + std::string(key) + "' in " + label);
    }
    return v;
}

}  // namespace airstrap::site
