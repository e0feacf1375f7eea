#include "node/deploy_config.hpp"

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace airstrap::node {

using nlohmann::json;

std::string deploy_config_text(const DeployConfig& config) {
    json answers = json::array();
    for (const auto& a : config.answers) {
        answers.push_back(
            {{"key", a.key}, {"value", a.value}, {"from", a.from}, {"secret", a.secret}});
    }
    json users = json::object();
    for (const auto& [name, password] : config.user_passwords) users[name] = password;
    return json{{"answers", answers}, {"user_passwords", users}}.dump(1) + "\n";
}

namespace {

[[noreturn]] void bad(const std::string& what) {
    throw InputError("deploy.sealed: " + what +
                     " (the file is written by the kickstart from site.yaml and secrets.yaml; "
                     "rebuild the controller's media with this version of airstrap)");
}

const json& member(const json& obj, const char* key, const std::string& where) {
    if (!obj.is_object()) bad(where + ": expected an object");
    auto it = obj.find(key);
    if (it == obj.end()) bad(where + ": missing key '" + key + "'");
    return *it;
}

std::string string_member(const json& obj, const char* key, const std::string& where) {
    const json& v = member(obj, key, where);
    if (!v.is_string()) bad(where + "." + key + ": expected a string");
    return v.get<std::string>();
}

}  // namespace

DeployConfig parse_deploy_config(const std::string& text) {
    json doc = json::parse(text, nullptr, false);
    if (doc.is_discarded()) bad("not JSON");
    if (!doc.is_object() || doc.size() != 2) bad("expected exactly 'answers' and 'user_passwords'");
    DeployConfig config;
    const json& answers = member(doc, "answers", "top");
    if (!answers.is_array()) bad("answers: expected a list");
    for (std::size_t i = 0; i < answers.size(); ++i) {
        std::string where = "answers[" + std::to_string(i) + "]";
        const json& a = answers[i];
        if (!a.is_object() || a.size() != 4) bad(where + ": expected key, value, from, secret");
        AnswerSetting s;
        s.key = string_member(a, "key", where);
        s.value = string_member(a, "value", where);
        s.from = string_member(a, "from", where);
        const json& secret = member(a, "secret", where);
        if (!secret.is_boolean()) bad(where + ".secret: expected true or false");
        s.secret = secret.get<bool>();
        if (s.key.empty()) bad(where + ".key: empty");
        config.answers.push_back(std::move(s));
    }
    const json& users = member(doc, "user_passwords", "top");
    if (!users.is_object()) bad("user_passwords: expected an object");
    for (const auto& [name, pw] : users.items()) {
        if (!pw.is_string() || pw.get<std::string>().empty())
            bad("user_passwords." + name + ": expected a non-empty string");
        config.user_passwords[name] = pw.get<std::string>();
    }
    return config;
}

namespace {

constexpr std::string_view seal_context = "airstrap deploy config v1";

crypto::Bytes sealing_key(const crypto::Bytes& site_secret, std::string_view purpose) {
    return crypto::hkdf_sha256(site_secret, "airstrap", purpose, 32);
}

}  // namespace

std::string seal_deploy_config(const DeployConfig& config, const crypto::Bytes& site_secret) {
    std::string plain = deploy_config_text(config);
    crypto::Bytes nonce =
        crypto::hmac_sha256(sealing_key(site_secret, "deploy config nonce"), plain);
    nonce.resize(12);
    std::string out = crypto::to_hex(crypto::seal(sealing_key(site_secret, "deploy config"), nonce,
                                                  plain, seal_context)) +
                      "\n";
    return out;
}

DeployConfig open_deploy_config(const std::string& text, const crypto::Bytes& site_secret) {
    std::string hex = text;
    while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r')) hex.pop_back();
    crypto::Bytes sealed;
    if (!crypto::from_hex(hex, sealed)) bad("not the hex of a sealed deploy config");
    std::string plain;
    try {
        plain = crypto::unseal(sealing_key(site_secret, "deploy config"), sealed, seal_context);
    } catch (const Error& e) {
        bad(e.what());
    }
    return parse_deploy_config(plain);
}

}  // namespace airstrap::node
