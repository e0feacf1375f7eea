#include "common/diagnostics.hpp"

#include <algorithm>

namespace airstrap {

std::string_view SourceFile::line(int number) const {
    if (number < 1) return {};
    std::size_t start = 0;
    for (int i = 1; i < number; ++i) {
        start = text.find('\n', start);
        if (start == std::string::npos) return {};
        ++start;
    }
    std::size_t end = text.find('\n', start);
    std::string_view l(text.data() + start, (end == std::string::npos ? text.size() : end) - start);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    return l;
}

void Diagnostics::error(SourceLocation where, std::string message) {
    ++errors_;
    add(Severity::error, where, std::move(message));
}

void Diagnostics::warning(SourceLocation where, std::string message) {
    add(Severity::warning, where, std::move(message));
}

void Diagnostics::add(Severity severity, SourceLocation where, std::string message) {
    if (items_.size() >= max_kept) {
        ++dropped_;
        return;
    }
    items_.push_back({severity, where, std::move(message)});
}

namespace {

// The caret goes under the column'th code point; tabs are kept so that it lines up.
std::string caret_line(std::string_view line, int column) {
    std::string out;
    int cp = 1;
    for (std::size_t i = 0; i < line.size() && cp < column; ++i) {
        unsigned char c = static_cast<unsigned char>(line[i]);
        if ((c & 0xC0) == 0x80) continue;
        out += c == '\t' ? '\t' : ' ';
        ++cp;
    }
    out += '^';
    return out;
}

}  // namespace

std::string Diagnostics::render() const {
    std::vector<Diagnostic> sorted = items_;
    std::stable_sort(sorted.begin(), sorted.end(), [](const Diagnostic& a, const Diagnostic& b) {
        return std::pair(a.where.line, a.where.column) < std::pair(b.where.line, b.where.column);
    });
    std::string out;
    for (const auto& d : sorted) {
        out += source_->path;
        if (d.where.line > 0) {
            out += ':' + std::to_string(d.where.line) + ':' + std::to_string(d.where.column);
        }
        out += d.severity == Severity::error ? ": error: " : ": warning: ";
        out += d.message;
        out += '\n';
        if (d.where.line > 0 && source_->quote_lines) {
            std::string_view l = source_->line(d.where.line);
            if (!l.empty()) {
                out += "    ";
                out += l;
                out += "\n    ";
                out += caret_line(l, d.where.column);
                out += '\n';
            }
        }
    }
    if (dropped_ > 0) {
        out += source_->path + ": " + std::to_string(dropped_) +
               " more problems not shown; fix the ones above and run again\n";
    }
    return out;
}

}  // namespace airstrap
