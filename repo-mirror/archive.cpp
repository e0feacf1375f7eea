#include "repo-mirror/archive.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <utility>
#include <vector>

#include "common/error.hpp"

namespace airstrap::mirror {

namespace {

std::string message(std::string_view before, const std::string& error, std::string_view after) {
    std::string out(before);
    out += error;
    out += after;
    return out;
}

// A libarchive handle of the disk kind, owned: archive_write_disk or archive_read_disk.
struct DiskHandle {
    archive* a;
    explicit DiskHandle(archive* handle) : a(handle) {
        if (!a) throw Error("libarchive: out of memory");
    }
    ~DiskHandle() {
        if (a) archive_free(a);
    }
    DiskHandle(const DiskHandle&) = delete;
    DiskHandle& operator=(const DiskHandle&) = delete;
};

// The entry resolver that turns a hard link's second name into a link, owned.
struct LinkResolver {
    archive_entry_linkresolver* r;
    explicit LinkResolver(int format) : r(archive_entry_linkresolver_new()) {
        if (!r) throw Error("libarchive: out of memory");
        archive_entry_linkresolver_set_strategy(r, format);
    }
    ~LinkResolver() { archive_entry_linkresolver_free(r); }
    LinkResolver(const LinkResolver&) = delete;
    LinkResolver& operator=(const LinkResolver&) = delete;
};

// `path` without its leading "/" and "./": relative to the archive's root.
std::string relative(std::string path) {
    for (;;) {
        if (path.starts_with("./")) {
            path.erase(0, 2);
        } else if (path.starts_with("/")) {
            path.erase(0, 1);
        } else {
            return path == "." ? "" : path;
        }
    }
}

}  // namespace

std::string archive_error(archive* a) {
    const char* s = archive_error_string(a);
    return s ? s : "unknown libarchive error";
}

// ---- reader ---------------------------------------------------------------------------------

ArchiveReader::ArchiveReader(unsigned formats, bool tolerate_warnings)
    : a_(archive_read_new()), tolerate_warnings_(tolerate_warnings) {
    if (!a_) throw Error("libarchive: out of memory");
    archive_read_support_filter_all(a_);
    if (formats & iso9660) archive_read_support_format_iso9660(a_);
    if (formats & tar) {
        archive_read_support_format_tar(a_);
        archive_read_support_format_gnutar(a_);
    }
    if (formats & cpio) archive_read_support_format_cpio(a_);
    if (formats & raw) archive_read_support_format_raw(a_);
    if (formats & empty) archive_read_support_format_empty(a_);
}

ArchiveReader::~ArchiveReader() {
    if (a_) archive_read_free(a_);
}

ArchiveReader::ArchiveReader(ArchiveReader&& other) noexcept
    : a_(std::exchange(other.a_, nullptr)), tolerate_warnings_(other.tolerate_warnings_) {}

ArchiveReader& ArchiveReader::operator=(ArchiveReader&& other) noexcept {
    if (this != &other) {
        if (a_) archive_read_free(a_);
        a_ = std::exchange(other.a_, nullptr);
        tolerate_warnings_ = other.tolerate_warnings_;
    }
    return *this;
}

void ArchiveReader::fail(std::string_view before, std::string_view after) const {
    throw InputError(message(before, archive_error(a_), after));
}

void ArchiveReader::open_file(const std::filesystem::path& file, std::size_t block_size,
                              std::string_view before, std::string_view after) {
    if (archive_read_open_filename(a_, file.c_str(), block_size) != ARCHIVE_OK) fail(before, after);
}

void ArchiveReader::open_memory(std::string_view data, std::string_view before,
                                std::string_view after) {
    if (archive_read_open_memory(a_, data.data(), data.size()) != ARCHIVE_OK) fail(before, after);
}

archive_entry* ArchiveReader::next(std::string_view before, std::string_view after) {
    archive_entry* entry = nullptr;
    int rc = archive_read_next_header(a_, &entry);
    if (rc == ARCHIVE_OK || (rc == ARCHIVE_WARN && tolerate_warnings_)) return entry;
    if (rc == ARCHIVE_EOF) return nullptr;
    fail(before, after);
}

archive_entry* ArchiveReader::next_or_end() {
    archive_entry* entry = nullptr;
    int rc = archive_read_next_header(a_, &entry);
    return rc == ARCHIVE_OK || (rc == ARCHIVE_WARN && tolerate_warnings_) ? entry : nullptr;
}

std::size_t ArchiveReader::read(char* buf, std::size_t size, std::string_view before,
                                std::string_view after) {
    la_ssize_t n = archive_read_data(a_, buf, size);
    if (n < 0) fail(before, after);
    return static_cast<std::size_t>(n);
}

void ArchiveReader::extract_all(const std::filesystem::path& root, std::string_view what) {
    // Symlink checks look at every component of the path: start from the real one.
    const std::filesystem::path base = std::filesystem::canonical(root);
    DiskHandle out(archive_write_disk_new());
    archive_write_disk_set_options(
        out.a, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                   ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                   ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_UNLINK);
    const std::string damaged = std::string(what) + " is damaged: ";
    std::vector<char> buf(1 << 16);
    while (archive_entry* e = next(damaged)) {
        std::string rel = relative(archive_entry_pathname(e));
        if (rel.empty()) continue;  // the root itself
        std::string target = (base / rel).string();
        archive_entry_copy_pathname(e, target.c_str());
        if (const char* link = archive_entry_hardlink(e))
            archive_entry_copy_hardlink(e, (base / relative(link)).c_str());
        auto cannot = [&] {
            throw Error("cannot write /" + rel + " of " + std::string(what) + ": " +
                        archive_error(out.a));
        };
        if (archive_write_header(out.a, e) < ARCHIVE_WARN) cannot();
        while (std::size_t n = read(buf.data(), buf.size(), damaged)) {
            if (archive_write_data(out.a, buf.data(), n) < 0) cannot();
        }
        if (archive_write_finish_entry(out.a) < ARCHIVE_WARN) cannot();
    }
    if (archive_write_close(out.a) != ARCHIVE_OK)
        throw Error("cannot finish " + std::string(what) + ": " + archive_error(out.a));
}

// ---- writer ---------------------------------------------------------------------------------

ArchiveWriter::ArchiveWriter() : a_(archive_write_new()) {
    if (!a_) throw Error("libarchive: out of memory");
    archive_write_set_format_pax_restricted(a_);
}

ArchiveWriter::~ArchiveWriter() {
    if (a_) archive_write_free(a_);
}

ArchiveWriter::ArchiveWriter(ArchiveWriter&& other) noexcept
    : a_(std::exchange(other.a_, nullptr)) {}

ArchiveWriter& ArchiveWriter::operator=(ArchiveWriter&& other) noexcept {
    if (this != &other) {
        if (a_) archive_write_free(a_);
        a_ = std::exchange(other.a_, nullptr);
    }
    return *this;
}

void ArchiveWriter::fail(std::string_view before, std::string_view after) const {
    throw Error(message(before, archive_error(a_), after));
}

void ArchiveWriter::open_file(const std::filesystem::path& file, std::string_view before,
                              std::string_view after) {
    if (archive_write_open_filename(a_, file.c_str()) != ARCHIVE_OK) fail(before, after);
}

void ArchiveWriter::open_fd(int fd, std::string_view before, std::string_view after) {
    if (archive_write_open_fd(a_, fd) != ARCHIVE_OK) fail(before, after);
}

void ArchiveWriter::write_header(archive_entry* entry, std::string_view before,
                                 std::string_view after) {
    if (archive_write_header(a_, entry) != ARCHIVE_OK) fail(before, after);
}

void ArchiveWriter::write_data(const void* data, std::size_t size, std::string_view before,
                               std::string_view after) {
    if (archive_write_data(a_, data, size) < 0) fail(before, after);
}

void ArchiveWriter::add_tree(const std::filesystem::path& dir, const std::string& prefix,
                             bool root_owned) {
    DiskHandle in(archive_read_disk_new());
    archive_read_disk_set_symlink_physical(in.a);
    // No user name lookup: owners go by number alone.
    const std::string cannot_read = "cannot read " + dir.string() + ": ";
    if (archive_read_disk_open(in.a, dir.c_str()) != ARCHIVE_OK)
        throw Error(cannot_read + archive_error(in.a));
    LinkResolver links(archive_format(a_));
    const std::string base = dir.string();
    std::vector<char> buf(1 << 16);
    for (;;) {
        ArchiveEntry holder;
        archive_entry* e = holder.get();
        int rc = archive_read_next_header2(in.a, e);
        if (rc == ARCHIVE_EOF) break;
        if (rc < ARCHIVE_WARN) throw Error(cannot_read + archive_error(in.a));
        archive_read_disk_descend(in.a);
        if (archive_entry_filetype(e) == AE_IFSOCK) continue;  // tar has no sockets
        std::string path = archive_entry_pathname(e);
        std::string rel = path.size() > base.size() ? path.substr(base.size() + 1) : "";
        std::string name = rel.empty() ? prefix : prefix + "/" + rel;
        archive_entry_copy_pathname(e, name.c_str());
        if (root_owned) {
            archive_entry_set_uid(e, 0);
            archive_entry_set_gid(e, 0);
        }
        archive_entry* spare = nullptr;
        archive_entry* out = e;
        archive_entry_linkify(links.r, &out, &spare);
        if (!out) continue;  // not with pax: it never holds an entry back
        const std::string cannot_add = "cannot add " + path + ": ";
        write_header(out, cannot_add);
        if (archive_entry_size(out) > 0) {
            for (;;) {
                la_ssize_t n = archive_read_data(in.a, buf.data(), buf.size());
                if (n < 0) throw Error(cannot_add + archive_error(in.a));
                if (n == 0) break;
                write_data(buf.data(), static_cast<std::size_t>(n), cannot_add);
            }
        }
        if (spare) archive_entry_free(spare);
    }
}

void ArchiveWriter::close(std::string_view before, std::string_view after) {
    if (archive_write_close(a_) != ARCHIVE_OK) fail(before, after);
}

// ---- entry ----------------------------------------------------------------------------------

ArchiveEntry::ArchiveEntry() : e_(archive_entry_new()) {
    if (!e_) throw Error("libarchive: out of memory");
}

ArchiveEntry::~ArchiveEntry() {
    if (e_) archive_entry_free(e_);
}

ArchiveEntry::ArchiveEntry(ArchiveEntry&& other) noexcept : e_(std::exchange(other.e_, nullptr)) {}

ArchiveEntry& ArchiveEntry::operator=(ArchiveEntry&& other) noexcept {
    if (this != &other) {
        if (e_) archive_entry_free(e_);
        e_ = std::exchange(other.e_, nullptr);
    }
    return *this;
}

}  // namespace airstrap::mirror
