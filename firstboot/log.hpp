// The daemon's log: one line per event, to stderr (journald on a node) and appended to
// /var/log/airstrap-firstboot.log under the root. Lines name the node and step they are
// about; callers never pass secrets. Messages often carry a peer's text (a node name, a
// command's output): every control character is escaped (escape_for_log), so one call is
// always one line and nobody can forge a line or send a terminal sequence.
#pragma once

#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>

namespace airstrap::firstboot {

// \n, \r and \t as those two characters, a backslash as \\, other C0 controls, DEL and
// C1 controls (UTF-8 encoded, 0xC2 0x80…0x9F) as \xNN per byte; everything else unchanged.
std::string escape_for_log(std::string_view text);

class Log {
  public:
    Log(std::filesystem::path file, std::string node);
    void info(const std::string& message);
    void warn(const std::string& message);

  private:
    void write(const char* level, const std::string& message);
    std::filesystem::path file_;
    std::string node_;
    std::mutex mutex_;
};

}  // namespace airstrap::firstboot
