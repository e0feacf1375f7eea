// Reading inputs with a size cap, and writing outputs so that a reader never sees a
// half-written file: a temp file beside the target, renamed into place on commit and
// removed on error, exception or SIGINT/SIGTERM/SIGHUP.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace airstrap {

// The whole file; InputError if it is larger than max_bytes.
std::string read_file(const std::filesystem::path& path, std::size_t max_bytes);

class AtomicFile {
  public:
    AtomicFile(std::filesystem::path target, mode_t mode);
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    void write(std::string_view data);
    // Flushes, sets the mode, renames over the target and syncs the folder.
    void commit();

    const std::filesystem::path& target() const noexcept { return target_; }

  private:
    void discard() noexcept;

    std::filesystem::path target_;
    std::filesystem::path temp_;
    mode_t mode_;
    int fd_ = -1;
    int slot_ = -1;
};

void write_file_atomic(const std::filesystem::path& target, std::string_view data, mode_t mode);

}  // namespace airstrap
