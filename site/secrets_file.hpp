// A secrets file read from disk for one site: its diagnostics (which never quote its lines),
// the secrets, and whether the file was there at all.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>

#include "common/diagnostics.hpp"
#include "site/model.hpp"
#include "site/secrets.hpp"

namespace airstrap::site {

class SecretsFile {
  public:
    // Reads `path` (refusing a file that group or others may read), parses it and checks it
    // against `site` (every cloud user has a password). I/O failures other than a missing
    // file throw; content problems, and a missing file, land in diag().
    static std::unique_ptr<SecretsFile> load(const std::filesystem::path& path, const Site& site);

    SecretsFile(const SecretsFile&) = delete;
    SecretsFile& operator=(const SecretsFile&) = delete;

    bool ok() const { return secrets_.has_value(); }
    // Only when ok().
    const Secrets& secrets() const { return *secrets_; }
    const Diagnostics& diag() const { return diag_; }
    // There was no file at the path: 'validate' warns instead of failing.
    bool missing() const { return missing_; }
    const std::filesystem::path& path() const { return path_; }

  private:
    SecretsFile() : diag_(source_) {}

    std::filesystem::path path_;
    SourceFile source_;
    Diagnostics diag_;
    std::optional<Secrets> secrets_;
    bool missing_ = false;
};

}  // namespace airstrap::site
