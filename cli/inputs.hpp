// What the subcommands read before they do anything: the site file and its secrets, their
// problems printed to stderr.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>

#include "site/secrets_file.hpp"
#include "site/site_file.hpp"

namespace airstrap::cli {

// The secrets file named by --secrets, else the site's ('secrets:' or secrets.yaml beside it).
std::filesystem::path secrets_path_for(const site::Site& site,
                                       const std::optional<std::filesystem::path>& flag);

struct SiteAndSecrets {
    std::unique_ptr<site::SiteFile> file;
    std::unique_ptr<site::SecretsFile> secrets;
    const site::Site& site() const { return file->site(); }
    const site::Secrets& keys() const { return secrets->secrets(); }
};

// The site file and its secrets, checked against each other, every problem printed;
// nothing unless both can be used (the command then exits 2).
std::optional<SiteAndSecrets> load_site_and_secrets(
    const std::filesystem::path& site, const std::optional<std::filesystem::path>& secrets_flag);

}  // namespace airstrap::cli
