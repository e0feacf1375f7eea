#include "repo-mirror/archive.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <utility>

#include "common/error.hpp"

namespace airstrap::mirror {

namespace {

std::string message(std::string_view before, const std::string& error, std::string_view after) {
    std::string out(before);
    out += error;
    out += after;
    return out;
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
