#include "repo-mirror/fetch_slot.hpp"

#include <sys/stat.h>

#include <system_error>

#include "common/text.hpp"

namespace airstrap::mirror::fetch_impl {

fs::path part_path(const fs::path& dest) {
    fs::path part = dest;
    part += ".part";
    return part;
}

void remove_quietly(const fs::path& path) noexcept {
    std::error_code ec;
    fs::remove(path, ec);
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) noexcept {
    auto* slot = static_cast<Slot*>(user);
    std::size_t n = size * count;
    try {
        std::string_view line(data, n);
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
        if (line.starts_with("HTTP/")) {
            slot->at.response = parse_status_line(line);
        } else if (starts_with_nocase(line, "content-range:")) {
            if (auto start = parse_content_range(line.substr(14)))
                slot->at.response.range_start = start;
        }
        return n;
    } catch (const std::exception& e) {
        slot->fail_local(e.what());
    } catch (...) {
        slot->fail_local("unknown error in the header callback");
    }
    return 0;
}

std::size_t on_write(char* data, std::size_t size, std::size_t count, void* user) noexcept {
    auto* slot = static_cast<Slot*>(user);
    try {
        return slot->on_body(data, size * count);
    } catch (const std::exception& e) {
        slot->fail_local(e.what());
    } catch (...) {
        slot->fail_local("unknown error in the write callback");
    }
    return 0;
}

namespace {

// The size of dest when it is there already with the right size and checksum.
std::optional<std::uint64_t> reusable_size(const FetchRequest& req) {
    std::error_code ec;
    if (!fs::is_regular_file(req.dest, ec)) return std::nullopt;
    auto size = fs::file_size(req.dest, ec);
    if (ec || (req.size && size != *req.size)) return std::nullopt;
    if (!req.checksum.empty()) {
        try {
            if (file_checksum_hex(req.checksum_type, req.dest) != text::to_lower(req.checksum)) {
                return std::nullopt;
            }
        } catch (const Error&) {
            return std::nullopt;  // unreadable: fetch it again over it
        }
    }
    return size;
}

}  // namespace

bool nothing_there(const FetchRequest& req) {
    struct stat st {};
    if (::stat(req.dest.c_str(), &st) == 0 || errno != ENOENT) return false;
    if (::stat(part_path(req.dest).c_str(), &st) == 0 || errno != ENOENT) return false;
    std::error_code ec;
    if (req.dest.has_parent_path()) fs::create_directories(req.dest.parent_path(), ec);
    return !ec;
}

void check_dest(Slot& s) noexcept {
    try {
        const FetchRequest& req = *s.req;
        s.found = Found::transfer;
        s.found_bytes = 0;
        if (!s.task.checked) {
            if (auto size = reusable_size(req)) {
                s.found = Found::reused;
                s.found_bytes = *size;
                return;
            }
            if (req.dest.has_parent_path()) fs::create_directories(req.dest.parent_path());
        }
        fs::path part = part_path(req.dest);
        std::error_code ec;
        std::uint64_t have = fs::file_size(part, ec);
        if (ec || have == 0) return;
        if (req.size && have > *req.size) {
            remove_quietly(part);
        } else if (req.size && have == *req.size) {
            // Left complete by an earlier run: verify it rather than ask for a range the server
            // cannot satisfy.
            if (req.checksum.empty() ||
                file_checksum_hex(req.checksum_type, part) == text::to_lower(req.checksum)) {
                if (::rename(part.c_str(), req.dest.c_str()) != 0) {
                    throw SystemError("cannot rename " + part.string() + " to " + req.dest.string(),
                                      errno);
                }
                s.found = Found::complete;
                s.found_bytes = have;
                return;
            }
            remove_quietly(part);
        } else {
            s.found_bytes = have;
        }
    } catch (const std::exception& e) {
        s.found = Found::failed;
        try {
            s.at.local_error = describe(e);
        } catch (...) {
        }
    }
}

namespace {

Verdict finalize(Slot& s) {
    const FetchRequest& req = *s.req;
    Attempt& at = s.at;
    if (!at.fd.is_open()) {  // an empty body: the write callback never opened the .part
        int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (at.offset == 0 ? O_TRUNC : 0);
        at.fd = Fd(::open(at.part.c_str(), flags, 0644));
        if (!at.fd.is_open()) throw SystemError("cannot open " + at.part.string(), errno);
    }
    struct stat st {};
    if (::fstat(at.fd.get(), &st) != 0) throw SystemError("cannot stat " + at.part.string(), errno);
    if (s.sync && ::fsync(at.fd.get()) != 0)
        throw SystemError("cannot sync " + at.part.string(), errno);
    at.fd.reset();
    auto actual = static_cast<std::uint64_t>(st.st_size);
    if (req.size && actual != *req.size) {
        return {Kind::retry_fresh, "file is " + std::to_string(actual) + " bytes, repodata says " +
                                       std::to_string(*req.size)};
    }
    if (!at.expected.empty()) {
        std::string got =
            at.hasher ? at.hasher->hex_digest() : file_checksum_hex(req.checksum_type, at.part);
        if (got != at.expected) {
            return {Kind::retry_fresh, std::string("checksum mismatch (") +
                                           checksum_type_name(req.checksum_type) + " expected " +
                                           at.expected + ", got " + got + ")"};
        }
    }
    if (::rename(at.part.c_str(), req.dest.c_str()) != 0) {
        throw SystemError("cannot rename " + at.part.string() + " to " + req.dest.string(), errno);
    }
    return {Kind::ok, {}};
}

}  // namespace

void finalize_job(Slot& s) noexcept {
    try {
        s.verdict = finalize(s);
    } catch (const std::exception& e) {
        try {
            s.verdict = {Kind::permanent, describe(e)};
        } catch (...) {
            s.verdict.kind = Kind::permanent;
        }
    }
    s.at.fd.reset();
}

}  // namespace airstrap::mirror::fetch_impl
