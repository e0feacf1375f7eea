// Reading site.yaml into the model. Reports every problem it finds into `diag`
// (file:line:column); the returned Site is only meaningful when diag has no errors.
#pragma once

#include <filesystem>

#include "common/diagnostics.hpp"
#include "site/model.hpp"

namespace airstrap::site {

// Largest site file we read: a real one is a few KiB.
inline constexpr std::size_t max_site_file_bytes = 1024 * 1024;

// Parses source.text (UTF-8 is checked first). `site_dir` anchors relative media paths.
Site parse_site(const SourceFile& source, const std::filesystem::path& site_dir, Diagnostics& diag);

}  // namespace airstrap::site
