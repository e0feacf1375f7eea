// A site file read from disk: its text (for quoting lines), the model, and every problem
// found by parsing and validation.
#pragma once

#include <filesystem>
#include <memory>

#include "common/diagnostics.hpp"
#include "site/model.hpp"

namespace airstrap::site {

class SiteFile {
  public:
    // Reads, parses and validates. I/O failures throw; content problems land in diag().
    static std::unique_ptr<SiteFile> load(const std::filesystem::path& path);
    // The same for text already in memory (tests); `path` only names it in messages.
    static std::unique_ptr<SiteFile> from_text(std::string path, std::string text,
                                               const std::filesystem::path& dir);

    SiteFile(const SiteFile&) = delete;
    SiteFile& operator=(const SiteFile&) = delete;

    const Site& site() const { return site_; }
    const Diagnostics& diag() const { return diag_; }
    bool ok() const { return !diag_.has_errors(); }

  private:
    SiteFile() : diag_(source_) {}
    void process(const std::filesystem::path& dir);

    SourceFile source_;
    Diagnostics diag_;
    Site site_;
};

}  // namespace airstrap::site
