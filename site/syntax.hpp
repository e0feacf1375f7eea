// Syntax of the site file's small words: time zone names, locales, keyboard layouts.
// Plain character checks: std::regex backtracks and overflows the stack on long input.
#pragma once

#include <string_view>

namespace airstrap::site {

// tz database names: "UTC", "Asia/Shanghai", "America/Argentina/Buenos_Aires".
bool is_timezone_name(std::string_view s);
// "en_US.UTF-8", "zh_CN.utf8", "de_DE@euro", "C"-less POSIX locales only.
bool is_locale_name(std::string_view s);
// vconsole/X11 layouts: "us", "de-nodeadkeys", "cz(qwerty)".
bool is_keyboard_layout(std::string_view s);

}  // namespace airstrap::site
