#include "provision/json_util.hpp"

#include "common/error.hpp"

namespace airstrap::provision::detail {

using nlohmann::json;

json parse_json(std::string_view text, const std::string& where) {
    try {
        return json::parse(text);
    } catch (const json::parse_error& e) {
        std::size_t line = 1, column = 1;
        // e.byte counts the characters read, the offending one last.
        for (std::size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
            if (text[i] == '\n') {
                ++line;
                column = 1;
            } else {
                ++column;
            }
        }
        std::string what = e.what();
        std::size_t colon = what.rfind(": ");
        throw InputError(where + ":" + std::to_string(line) + ":" + std::to_string(column) +
                         ": not valid JSON (" +
                         (colon == std::string::npos ? what : what.substr(colon + 2)) + ")");
    }
}

void bad(const std::string& where, const std::string& key, const std::string& what) {
    throw InputError(where + ": " + (key.empty() ? "" : "'" + key + "': ") + what);
}

const json& get(const json& obj, const char* key, json::value_t type, const std::string& where) {
    auto it = obj.find(key);
    if (it == obj.end()) bad(where, key, "missing");
    bool ok =
        it->type() == type || (type == json::value_t::number_integer && it->is_number_unsigned());
    if (!ok)
        bad(where, key,
            std::string("expected ") + json(type).type_name() + ", found " + it->type_name());
    return *it;
}

std::string get_string(const json& obj, const char* key, const std::string& where) {
    return get(obj, key, json::value_t::string, where).get<std::string>();
}

std::int64_t get_int(const json& obj, const char* key, const std::string& where) {
    return get(obj, key, json::value_t::number_integer, where).get<std::int64_t>();
}

}  // namespace airstrap::provision::detail
