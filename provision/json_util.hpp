// JSON files of the provisioning service: parse with errors that name file:line:column.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace airstrap::provision::detail {

// The document, or InputError "WHERE:LINE:COL: not valid JSON (…)".
nlohmann::json parse_json(std::string_view text, const std::string& where);

// InputError "WHERE: KEY: WHAT" (how to recover is added by the caller's context).
[[noreturn]] void bad(const std::string& where, const std::string& key, const std::string& what);

// Typed members; InputError naming the key when missing or of the wrong type.
std::string get_string(const nlohmann::json& obj, const char* key, const std::string& where);
std::int64_t get_int(const nlohmann::json& obj, const char* key, const std::string& where);
const nlohmann::json& get(const nlohmann::json& obj, const char* key, nlohmann::json::value_t type,
                          const std::string& where);

}  // namespace airstrap::provision::detail
