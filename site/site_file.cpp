#include "site/site_file.hpp"

#include "common/file_io.hpp"
#include "site/parse.hpp"
#include "site/validate.hpp"

namespace airstrap::site {

std::unique_ptr<SiteFile> SiteFile::load(const std::filesystem::path& path) {
    std::unique_ptr<SiteFile> f(new SiteFile());
    f->source_.path = path.string();
    f->source_.text = read_file(path, max_site_file_bytes);
    std::filesystem::path dir = std::filesystem::absolute(path).parent_path();
    f->process(dir);
    return f;
}

std::unique_ptr<SiteFile> SiteFile::from_text(std::string path, std::string text,
                                              const std::filesystem::path& dir) {
    std::unique_ptr<SiteFile> f(new SiteFile());
    f->source_.path = std::move(path);
    f->source_.text = std::move(text);
    f->process(dir);
    return f;
}

void SiteFile::process(const std::filesystem::path& dir) {
    site_ = parse_site(source_, dir, diag_);
    // Cross-field checks on a half-parsed file would mostly repeat the parse errors.
    if (!diag_.has_errors()) validate_site(site_, diag_);
}

}  // namespace airstrap::site
