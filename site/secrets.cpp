#include "site/secrets.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/text.hpp"
#include "site/site_file.hpp"
#include "site/yaml_reader.hpp"

namespace airstrap::site {

std::string generate_password(std::size_t length) {
    static constexpr std::string_view alphabet =
        "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    // Rejection sampling keeps every character equally likely.
    constexpr unsigned limit = 256 - 256 % alphabet.size();
    std::string out;
    while (out.size() < length) {
        for (auto b : crypto::random_bytes(length * 2)) {
            if (b >= limit) continue;
            out += alphabet[b % alphabet.size()];
            if (out.size() == length) break;
        }
    }
    return out;
}

std::optional<std::string> password_weakness(const std::string& password) {
    static const char* const common[] = {"123456",    "12345678", "password", "admin",  "changeme",
                                         "openstack", "redhat",   "root",     "qwerty", "secret"};
    std::vector<std::string> why;
    if (password.size() < 12) why.push_back(std::to_string(password.size()) + " characters");
    auto all = [&](int (*pred)(int)) {
        return std::all_of(password.begin(), password.end(),
                           [&](unsigned char c) { return pred(c) != 0; });
    };
    if (all(isdigit)) why.push_back("digits only");
    // Random letters are strong enough at generator length; short ones are words.
    if (password.size() < 16 && all(isalpha)) why.push_back("letters only");
    std::string lower = password;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (const char* c : common) {
        if (lower == c) why.push_back("a well-known password");
    }
    if (why.empty()) return std::nullopt;
    return text::join(why, ", ");
}

std::string generate_secrets_yaml(const std::vector<std::string>& cloud_users) {
    std::string out =
        "# airstrap site secrets. Keep this file mode 0600 and out of version control.\n"
        "# The site secret keys node enrolment; every node's install media carries it.\n"
        "# Passwords may be changed; a weak one is accepted with a warning.\n"
        "site_secret: " +
        crypto::to_hex(crypto::random_bytes(site_secret_bytes)) +
        "\n"
        "passwords:\n"
        "  root: " +
        generate_password() +
        "            # root on every node (console login)\n"
        "  default: " +
        generate_password() +
        "         # Packstack's default for service passwords\n"
        "  keystone_admin: " +
        generate_password() + "  # the cloud's admin user (dashboard, CLI)\n";
    if (!cloud_users.empty()) {
        out += "  users:                          # site.yaml cloud.users\n";
        for (const auto& name : cloud_users)
            out += "    " + name + ": " + generate_password() + "\n";
    }
    return out;
}

std::optional<Secrets> parse_secrets(const SourceFile& source, Diagnostics& diag) {
    if (auto bad = text::find_invalid_utf8(source.text)) {
        auto lc = text::line_column_at(source.text, *bad);
        diag.error({lc.line, lc.column}, "the secrets file is not UTF-8");
        return std::nullopt;
    }
    YAML::Node root;
    try {
        root = YAML::Load(source.text);
    } catch (const YAML::Exception& e) {
        diag.error({e.mark.line + 1, e.mark.column + 1}, "YAML syntax: " + e.msg);
        return std::nullopt;
    }
    YamlReader r(diag, "the secrets file");
    YamlMap top(r, root, "", {"site_secret", "passwords"});
    if (!top.valid()) return std::nullopt;
    Secrets secrets;
    if (auto n = top.require("site_secret"); n.IsDefined()) {
        auto s = r.string(n, "'site_secret'");
        if (s && (!crypto::from_hex(*s, secrets.site_secret) ||
                  secrets.site_secret.size() != site_secret_bytes)) {
            diag.error(location_of(n), "site_secret must be " +
                                           std::to_string(site_secret_bytes * 2) +
                                           " hex digits (32 random bytes); 'airstrap init "
                                           "--secrets-only DIR' makes one");
        }
    }
    // A password as the answer file and kickstart can carry it; weak ones are warned about.
    auto password = [&](const YAML::Node& v, const std::string& key) -> std::optional<std::string> {
        auto s = r.string(v, "'" + key + "'");
        if (!s) return std::nullopt;
        bool printable = !s->empty() && std::all_of(s->begin(), s->end(), [](unsigned char c) {
            return c >= 0x21 && c <= 0x7E;
        });
        if (!printable) {
            diag.error(location_of(v), key +
                                           " must be printable ASCII without spaces (the "
                                           "answer file and kickstart carry it)");
            return std::nullopt;
        }
        if (auto why = password_weakness(*s)) {
            diag.warning(location_of(v), key + " is weak (" + *why +
                                             "); accepted because it is written explicitly");
        }
        return s;
    };
    if (auto n = top.require("passwords"); n.IsDefined()) {
        YamlMap pw(r, n, "passwords", {"root", "default", "keystone_admin", "users"});
        if (pw.valid()) {
            for (auto [key, field] :
                 {std::pair{"root", &secrets.root_password},
                  std::pair{"default", &secrets.default_password},
                  std::pair{"keystone_admin", &secrets.keystone_admin_password}}) {
                auto v = pw.require(key);
                if (!v.IsDefined()) continue;
                if (auto s = password(v, "passwords." + std::string(key))) *field = *s;
            }
            if (auto users = pw.get("users"); users.IsDefined() && !users.IsNull()) {
                YamlMap names(r, users, "passwords.users", {});  // any name; duplicates reported
                if (names.valid()) {
                    for (auto it = users.begin(); it != users.end(); ++it) {
                        if (!it->first.IsScalar()) continue;
                        std::string name = it->first.Scalar();
                        if (secrets.user_passwords.contains(name)) continue;
                        if (auto s = password(it->second, "passwords.users." + name))
                            secrets.user_passwords[name] = *s;
                    }
                }
            }
        }
    }
    if (diag.has_errors()) return std::nullopt;
    return secrets;
}

std::optional<Secrets> load_secrets(const std::filesystem::path& path, SourceFile& source,
                                    Diagnostics& diag) {
    source.path = path.string();
    source.quote_lines = false;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) {
            diag.error({}, "no secrets file; 'airstrap init --secrets-only " +
                               path.parent_path().string() + "' makes one");
            return std::nullopt;
        }
        throw SystemError("cannot stat " + path.string(), errno);
    }
    if (st.st_mode & 077) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        diag.error({}, std::string("mode ") + mode +
                           " lets other users read the secrets; run 'chmod 600 " + path.string() +
                           "'");
        return std::nullopt;
    }
    source.text = read_file(path, 64 * 1024);
    return parse_secrets(source, diag);
}

std::vector<std::string> cloud_users_in(const std::filesystem::path& site_file) {
    std::vector<std::string> names;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(site_file, ec)) return names;
    try {
        auto file = SiteFile::load(site_file);  // outlives the loop, unlike a temporary
        for (const auto& u : file->site().cloud.users) names.push_back(u.name);
    } catch (const Error&) {
        // Unreadable or too large: 'validate' says so; init makes what it can.
    }
    return names;
}

void check_secrets_for_site(const Site& site, const Secrets& secrets, Diagnostics& diag) {
    for (const auto& user : site.cloud.users) {
        if (secrets.user_passwords.contains(user.name)) continue;
        diag.error({}, "no password for cloud user '" + user.name + "' (" + site.file + " line " +
                           std::to_string(user.name_at.line) + "): add passwords.users." +
                           user.name + " to this file ('users:' under 'passwords:', then '" +
                           user.name + ": PASSWORD' under it)");
    }
}

std::string missing_user_passwords_note(const std::filesystem::path& secrets_path,
                                        const std::vector<std::string>& cloud_users) {
    if (cloud_users.empty()) return {};
    // Read leniently: this only advises; 'validate' reports whatever else is wrong.
    YAML::Node users;
    try {
        YAML::Node root = YAML::Load(read_file(secrets_path, 64 * 1024));
        if (root.IsMap() && root["passwords"].IsMap()) users = root["passwords"]["users"];
    } catch (const std::exception&) {
        return {};
    }
    std::vector<std::string> missing;
    for (const auto& name : cloud_users) {
        if (!users.IsMap() || !users[name].IsDefined()) missing.push_back(name);
    }
    if (missing.empty()) return {};
    std::string note = secrets_path.string() + " has no password for cloud user" +
                       (missing.size() == 1 ? " " : "s ") + text::join(missing, ", ") +
                       " (site.yaml cloud.users); add under 'passwords:'\n  users:\n";
    for (const auto& name : missing) note += "    " + name + ": A-PASSWORD-OF-YOUR-CHOICE\n";
    return note;
}

}  // namespace airstrap::site
