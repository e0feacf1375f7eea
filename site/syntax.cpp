#include "site/syntax.hpp"

#include "common/text.hpp"

namespace airstrap::site {

namespace {

bool lower(char c) {
    return c >= 'a' && c <= 'z';
}
bool upper(char c) {
    return c >= 'A' && c <= 'Z';
}
bool digit(char c) {
    return c >= '0' && c <= '9';
}

template <typename Pred>
bool all_of(std::string_view s, Pred pred) {
    for (char c : s) {
        if (!pred(c)) return false;
    }
    return true;
}

}  // namespace

bool is_timezone_name(std::string_view s) {
    if (s.empty() || s.size() > 64) return false;
    for (const auto& part : text::split(s, '/')) {
        if (part.empty() || part == "." || part == "..") return false;
        if (!all_of(part, [](char c) {
                return lower(c) || upper(c) || digit(c) || c == '_' || c == '+' || c == '-';
            })) {
            return false;
        }
    }
    return true;
}

bool is_locale_name(std::string_view s) {
    // language [_TERRITORY] [.codeset] [@modifier]
    std::size_t i = 0;
    while (i < s.size() && lower(s[i])) ++i;
    if (i < 2 || i > 3) return false;
    if (i < s.size() && s[i] == '_') {
        if (i + 3 > s.size() || !upper(s[i + 1]) || !upper(s[i + 2])) return false;
        i += 3;
    }
    if (i < s.size() && s[i] == '.') {
        std::size_t end = s.find('@', i);
        std::string_view codeset =
            s.substr(i + 1, end == std::string_view::npos ? end : end - i - 1);
        if (codeset != "UTF-8" && codeset != "utf8") return false;
        i += 1 + codeset.size();
    }
    if (i < s.size() && s[i] == '@') {
        std::string_view modifier = s.substr(i + 1);
        if (modifier.empty() || !all_of(modifier, lower)) return false;
        i = s.size();
    }
    return i == s.size();
}

bool is_keyboard_layout(std::string_view s) {
    if (s.empty() || s.size() > 64 || !lower(s[0])) return false;
    auto word = [](char c) { return lower(c) || digit(c) || c == '_' || c == '-'; };
    std::size_t open = s.find('(');
    if (open == std::string_view::npos) return all_of(s, word);
    std::string_view variant = s.substr(open + 1);
    return all_of(s.substr(0, open), word) && variant.size() >= 2 && variant.back() == ')' &&
           all_of(variant.substr(0, variant.size() - 1), word);
}

}  // namespace airstrap::site
