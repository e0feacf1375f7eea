// secrets.yaml: the site secret and the passwords, kept apart from site.yaml, mode 0600.
// Nothing here ever prints a secret: diagnostics about this file never quote its lines.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "common/crypto.hpp"
#include "common/diagnostics.hpp"

namespace airstrap::site {

struct Secrets {
    crypto::Bytes site_secret;     // 32 bytes
    std::string root_password;     // the nodes' root account
    std::string default_password;  // Packstack's CONFIG_DEFAULT_PASSWORD
    std::string keystone_admin_password;
};

inline constexpr std::size_t site_secret_bytes = 32;

// A fresh secrets.yaml: random site secret and generated passwords, with comments.
std::string generate_secrets_yaml();

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

}  // namespace airstrap::site
