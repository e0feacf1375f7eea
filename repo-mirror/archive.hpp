// libarchive behind one owner per handle: a reader (ISO images, tarballs, RPM payloads,
// compressed metadata) and a writer (pax tar), movable and not copyable. A call that can fail
// takes the message it fails with, `before` + libarchive's own message + `after`, so that it
// names the path it is about. A reader throws InputError (the archive is bad), a writer Error.
// Used by the mirror's source trees and metadata, and by the builder's repo.tar and qcow2
// uploads.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

struct archive;
struct archive_entry;

namespace airstrap::mirror {

// libarchive's last error as text: archive_error_string() may return NULL.
std::string archive_error(archive* a);

class ArchiveReader {
  public:
    enum Format : unsigned {
        iso9660 = 1u << 0,
        tar = 1u << 1,  // POSIX and GNU
        cpio = 1u << 2,
        raw = 1u << 3,  // one unnamed entry: a compressed file
        empty = 1u << 4,
    };
    // Reads `formats` (an OR of Format) under any compression libarchive knows. With
    // `tolerate_warnings`, an entry read with ARCHIVE_WARN counts as read.
    explicit ArchiveReader(unsigned formats, bool tolerate_warnings = false);
    ~ArchiveReader();
    ArchiveReader(ArchiveReader&& other) noexcept;
    ArchiveReader& operator=(ArchiveReader&& other) noexcept;
    ArchiveReader(const ArchiveReader&) = delete;
    ArchiveReader& operator=(const ArchiveReader&) = delete;

    void open_file(const std::filesystem::path& file, std::size_t block_size,
                   std::string_view before, std::string_view after = {});
    // `data` must outlive the reading.
    void open_memory(std::string_view data, std::string_view before, std::string_view after = {});
    // The next entry (owned by the reader, valid until the next call), nullptr at the end.
    archive_entry* next(std::string_view before, std::string_view after = {});
    // The same, but nullptr on an error too: for a caller that names what it still missed.
    archive_entry* next_or_end();
    // Up to `size` bytes of the current entry; 0 at its end.
    std::size_t read(char* buf, std::size_t size, std::string_view before,
                     std::string_view after = {});
    // Every remaining entry written into the file system under `root` (archive_write_disk):
    // owners, modes, times, extended attributes (file capabilities) and hard links kept; an
    // entry with '..' or one that would be written through a symlink is refused. InputError
    // for a bad archive, Error for a file that cannot be written.
    void extract_all(const std::filesystem::path& root, std::string_view what);

  private:
    [[noreturn]] void fail(std::string_view before, std::string_view after) const;
    archive* a_;
    bool tolerate_warnings_;
};

class ArchiveWriter {
  public:
    ArchiveWriter();  // pax (restricted) tar
    ~ArchiveWriter();
    ArchiveWriter(ArchiveWriter&& other) noexcept;
    ArchiveWriter& operator=(ArchiveWriter&& other) noexcept;
    ArchiveWriter(const ArchiveWriter&) = delete;
    ArchiveWriter& operator=(const ArchiveWriter&) = delete;

    void open_file(const std::filesystem::path& file, std::string_view before,
                   std::string_view after = {});
    void open_fd(int fd, std::string_view before,
                 std::string_view after = {});  // the fd stays the caller's
    void write_header(archive_entry* entry, std::string_view before, std::string_view after = {});
    void write_data(const void* data, std::size_t size, std::string_view before,
                    std::string_view after = {});
    // Every file under `dir` (not following symlinks), as `prefix`/its path relative to `dir`,
    // with its owner and group by number only (the host's user names mean nothing in an
    // image), mode, times, extended attributes and hard links. `prefix` is "." or "./a/b".
    // `root_owned`: every entry owned by root (a folder of the host's put in an image).
    void add_tree(const std::filesystem::path& dir, const std::string& prefix,
                  bool root_owned = false);
    // Flushes the end of the archive; the destructor alone does not report errors.
    void close(std::string_view before, std::string_view after = {});

  private:
    [[noreturn]] void fail(std::string_view before, std::string_view after) const;
    archive* a_;
};

// A new archive entry, owned.
class ArchiveEntry {
  public:
    ArchiveEntry();
    ~ArchiveEntry();
    ArchiveEntry(ArchiveEntry&& other) noexcept;
    ArchiveEntry& operator=(ArchiveEntry&& other) noexcept;
    ArchiveEntry(const ArchiveEntry&) = delete;
    ArchiveEntry& operator=(const ArchiveEntry&) = delete;
    archive_entry* get() const { return e_; }

  private:
    archive_entry* e_;
};

}  // namespace airstrap::mirror
