// A source of repository files read in place: a folder, an ISO image or a tarball. Nothing
// is unpacked or mounted. Archives are read with libarchive, which reads sequentially, so
// a reader asks for every file it wants at once and gets them in the archive's order.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

namespace airstrap::mirror {

class ByteStream {
  public:
    virtual ~ByteStream() = default;
    // Up to `size` bytes; 0 at the end.
    virtual std::size_t read(char* buf, std::size_t size) = 0;
};

class SourceTree {
  public:
    virtual ~SourceTree() = default;
    // What to call it in messages: the path the site file names.
    const std::string& name() const { return name_; }
    // Every regular file: relative '/'-separated path → size.
    const std::map<std::string, std::uint64_t>& files() const { return files_; }

    // Calls `fn` once for each wanted path present, in the tree's own order.
    virtual void stream(const std::set<std::string>& wanted,
                        const std::function<void(const std::string&, ByteStream&)>& fn) = 0;
    // One small file, whole; InputError when it is missing or larger than max_bytes.
    std::string read(const std::string& path, std::size_t max_bytes);

  protected:
    explicit SourceTree(std::string name) : name_(std::move(name)) {}
    std::string name_;
    std::map<std::string, std::uint64_t> files_;
};

// A folder; symlinks are not followed.
std::unique_ptr<SourceTree> open_directory(const std::filesystem::path& dir);

// An ISO 9660 image or a tar archive (gz, xz, bz2, zstd), recognised by content. Refuses
// the whole archive, naming the entry, if any entry is absolute, climbs out with "..",
// is a device, fifo or socket, or is a link that points outside the archive.
std::unique_ptr<SourceTree> open_archive(const std::filesystem::path& file);

// A folder, or an archive when `path` is a file.
std::unique_ptr<SourceTree> open_tree(const std::filesystem::path& path);

// Relative, '/'-separated, no "..", ".", empty or absolute parts: safe to join to a folder.
bool is_safe_relative_path(std::string_view path);

}  // namespace airstrap::mirror
