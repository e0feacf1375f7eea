// Reading inputs with a size cap, and writing outputs so that a reader never sees a
// half-written file: a temp file beside the target, renamed into place on commit and
// removed on error, exception or SIGINT/SIGTERM/SIGHUP.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace airstrap {

// The whole file; InputError if it is larger than max_bytes.
std::string read_file(const std::filesystem::path& path, std::size_t max_bytes);

// Calls fn(data, size) for each block of the file, in order; SystemError naming the file
// when it cannot be read. An exception from fn stops the reading and propagates.
void for_each_block(const std::filesystem::path& path,
                    const std::function<void(const char*, std::size_t)>& fn);

// Whether a file is synced before it is renamed into place: every output is `durable`;
// `scratch` is for files in a TempDir that the same run reads back and then removes (a crash
// loses them with their folder anyway), where a sync only waits for unrelated write-back.
enum class Durability { durable, scratch };

class AtomicFile {
  public:
    AtomicFile(std::filesystem::path target, mode_t mode,
               Durability durability = Durability::durable);
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    void write(std::string_view data);
    // Flushes, sets the mode, renames over the target and syncs the folder (durable).
    void commit();

    const std::filesystem::path& target() const noexcept { return target_; }
    // For output that another writer fills in place (xorriso -dev): the temp file and its
    // descriptor, valid until commit.
    const std::filesystem::path& temp_path() const noexcept { return temp_; }
    int fd() const noexcept { return fd_; }

  private:
    void discard() noexcept;

    std::filesystem::path target_;
    std::filesystem::path temp_;
    mode_t mode_;
    Durability durability_;
    int fd_ = -1;
    int slot_ = -1;
};

void write_file_atomic(const std::filesystem::path& target, std::string_view data, mode_t mode,
                       Durability durability = Durability::durable);

// Appends the whole of `source` to out_fd inside the kernel (copy_file_range: a reflink or
// server-side copy where the file system can, never through user space), falling back to
// read/write where it cannot. `progress(done, total)` after every chunk. Returns the bytes.
std::uint64_t copy_file_into(
    int out_fd, const std::filesystem::path& source,
    const std::function<void(std::uint64_t, std::uint64_t)>& progress = {});

// What a killed run left beside `dir/name`: AtomicFile temps (".NAME.tmp-XXXXXX") and
// TempDir folders made with the prefix NAME.staging (".NAME.staging-XXXXXX"). Removed quietly.
void remove_stale_outputs(const std::filesystem::path& dir, const std::string& name);

// A fresh folder `parent/.PREFIX-XXXXXX`, removed with everything in it unless released.
class TempDir {
  public:
    TempDir(const std::filesystem::path& parent, const std::string& prefix);
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }
    // Keep the folder (it was renamed into place).
    void release() noexcept { path_.clear(); }

  private:
    std::filesystem::path path_;
};

}  // namespace airstrap
