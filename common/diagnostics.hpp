// Problems found in an input file, collected so that a user sees all of them at once.
// Rendered as "site.yaml:12:5: error: message", then the line, then a caret.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace airstrap {

struct SourceLocation {
    int line = 0;  // 1-based; 0 when the problem is about the whole file
    int column = 0;
};

enum class Severity { error, warning };

struct Diagnostic {
    Severity severity;
    SourceLocation where;
    std::string message;
};

// An input file's name as the user gave it, and its text, for quoting lines.
struct SourceFile {
    std::string path;
    std::string text;
    bool quote_lines = true;  // false for files holding secrets: never echo their lines

    std::string_view line(int number) const;
};

class Diagnostics {
  public:
    explicit Diagnostics(const SourceFile& source) : source_(&source) {}

    void error(SourceLocation where, std::string message);
    void warning(SourceLocation where, std::string message);

    std::size_t error_count() const noexcept { return errors_; }
    bool has_errors() const noexcept { return errors_ > 0; }
    const std::vector<Diagnostic>& all() const noexcept { return items_; }
    const SourceFile& source() const noexcept { return *source_; }

    // All diagnostics in file order, each with its line and a caret.
    std::string render() const;

    // Past this many, further problems are counted but not kept: a broken file can
    // produce one error per line, and the first hundred are enough to start fixing.
    static constexpr std::size_t max_kept = 100;

  private:
    void add(Severity severity, SourceLocation where, std::string message);

    const SourceFile* source_;
    std::vector<Diagnostic> items_;
    std::size_t errors_ = 0;
    std::size_t dropped_ = 0;
};

}  // namespace airstrap
