// Small text helpers shared by the parsers and the renderers.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace airstrap::text {

// Edit distance counting a swap of two neighbours as one edit, for "did you mean".
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`, if one is close enough to be a plausible typo.
std::optional<std::string> closest(std::string_view word, std::span<const std::string> candidates);

// Offset of the first byte that is not valid UTF-8 (overlongs and surrogates included).
std::optional<std::size_t> find_invalid_utf8(std::string_view s);

// 1-based line and column (in code points) of a byte offset.
struct LineColumn {
    int line;
    int column;
};
LineColumn line_column_at(std::string_view s, std::size_t offset);

// ASCII lower case (MACs, checksums, keywords); other bytes unchanged.
std::string to_lower(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep);
std::string join(std::span<const std::string> parts, std::string_view sep);
// Without leading and trailing spaces, tabs, CR and LF.
std::string trim(std::string_view s);
// Rows as columns two spaces apart, each as wide as its widest cell (in bytes), the last one
// not padded; one line per row.
std::string columns(const std::vector<std::vector<std::string>>& rows);
// A whole decimal number (optional leading '-'), nothing else; nullopt otherwise.
std::optional<long long> parse_int(std::string_view s);

// Offset of the first character of YAML-ish text that is neither blank nor in a '#' comment
// line; npos when there is none.
std::size_t first_content(std::string_view s);

}  // namespace airstrap::text
