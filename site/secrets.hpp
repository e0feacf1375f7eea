// secrets.yaml: the site secret and the passwords, kept apart from site.yaml, mode 0600.
// Nothing here ever prints a secret: diagnostics about this file never quote its lines.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/crypto.hpp"
#include "common/diagnostics.hpp"
#include "site/model.hpp"

namespace airstrap::site {

struct Secrets {
    crypto::Bytes site_secret;     // 32 bytes
    std::string root_password;     // the nodes' root account
    std::string default_password;  // Packstack's CONFIG_DEFAULT_PASSWORD
    std::string keystone_admin_password;
    std::map<std::string, std::string>
        user_passwords;  // passwords.users: cloud.users name → password
};

inline constexpr std::size_t site_secret_bytes = 32;

// A fresh secrets.yaml: random site secret and generated passwords, with comments; one
// under passwords.users for each of `cloud_users` (the site's cloud.users).
std::string generate_secrets_yaml(const std::vector<std::string>& cloud_users = {});

// A password from the CSPRNG: `length` characters without look-alikes (0/O, 1/l/I).
std::string generate_password(std::size_t length = 20);

// Why a password is weak ("6 characters, digits only"), or nothing if it is not.
std::optional<std::string> password_weakness(const std::string& password);

// Parses and checks secrets.yaml text; weak passwords are accepted with a warning.
std::optional<Secrets> parse_secrets(const SourceFile& source, Diagnostics& diag);

// Reads `path`, refusing a file that group or others may read; problems go to `diag`,
// whose source must be `source` (filled in here).
std::optional<Secrets> load_secrets(const std::filesystem::path& path, SourceFile& source,
                                    Diagnostics& diag);

// Checks that need both files: every cloud user has a password. Errors go to `diag`, whose
// source is the secrets file; they name the key to add, never a password.
void check_secrets_for_site(const Site& site, const Secrets& secrets, Diagnostics& diag);

// The names under cloud.users of the site file at `site_file`; none when it is missing or
// unreadable (`airstrap init` runs before the site is finished).
std::vector<std::string> cloud_users_in(const std::filesystem::path& site_file);

// For `airstrap init` beside an existing secrets file: what to add for the cloud users it
// lacks a password for ("" when none), without touching the file.
std::string missing_user_passwords_note(const std::filesystem::path& secrets_path,
                                        const std::vector<std::string>& cloud_users);

}  // namespace airstrap::site
