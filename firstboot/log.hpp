// The daemon's log: one line per event, to stderr (journald on a node) and appended to
// /var/log/airstrap-firstboot.log under the root. Lines name the node and step they are
// about; callers never pass secrets.
#pragma once

#include <filesystem>
#include <mutex>
#include <string>

namespace airstrap::firstboot {

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
