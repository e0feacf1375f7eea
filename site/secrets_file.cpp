#include "site/secrets_file.hpp"

namespace airstrap::site {

std::unique_ptr<SecretsFile> SecretsFile::load(const std::filesystem::path& path,
                                               const Site& site) {
    std::unique_ptr<SecretsFile> f(new SecretsFile());
    f->path_ = path;
    std::error_code ec;
    f->missing_ = !std::filesystem::exists(path, ec);
    f->secrets_ = load_secrets(path, f->source_, f->diag_);
    if (f->secrets_) {
        check_secrets_for_site(site, *f->secrets_, f->diag_);
        if (f->diag_.has_errors()) f->secrets_.reset();
    }
    return f;
}

}  // namespace airstrap::site
