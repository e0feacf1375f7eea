#include "cli/inputs.hpp"

#include <iostream>

namespace airstrap::cli {

std::filesystem::path secrets_path_for(const site::Site& site,
                                       const std::optional<std::filesystem::path>& flag) {
    return flag ? *flag : site.secrets_path;
}

std::optional<SiteAndSecrets> load_site_and_secrets(
    const std::filesystem::path& site, const std::optional<std::filesystem::path>& secrets_flag) {
    SiteAndSecrets out;
    out.file = site::SiteFile::load(site);
    std::cerr << out.file->diag().render();
    if (!out.file->ok()) return std::nullopt;
    out.secrets = site::SecretsFile::load(secrets_path_for(out.site(), secrets_flag), out.site());
    std::cerr << out.secrets->diag().render();
    if (!out.secrets->ok()) return std::nullopt;
    return out;
}

}  // namespace airstrap::cli
