// One transfer slot of the fetcher (a libcurl easy handle and the attempt it carries, with
// libcurl's header and write callbacks) and the disk work around a transfer that runs on the
// work pool: the reuse check of dest and its .part before, verify, sync and rename after.
// Internal to fetch.cpp.
#pragma once

#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>

#include "common/checksum.hpp"
#include "common/error.hpp"
#include "common/handle.hpp"
#include "repo-mirror/fetch.hpp"
#include "repo-mirror/fetch_http.hpp"

namespace airstrap::mirror::fetch_impl {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

inline constexpr std::uint64_t kMaxErrorBody = 1 << 20;  // of a 4xx/5xx page, read and dropped

// DEST.part: where a body streams until it is verified.
std::filesystem::path part_path(const std::filesystem::path& dest);
void remove_quietly(const std::filesystem::path& path) noexcept;

// Why a callback told libcurl to stop.
enum class Abort { none, local, too_big, over_cap, range_mismatch, error_body };

struct Task {
    std::size_t index = 0;  // into the requests and the results
    int attempts = 0;
    std::uint64_t bytes = 0;
    bool checked = false;  // the reuse check on dest is done
    Clock::time_point ready{};
};

enum class Phase { idle, checking, transfer, finishing };

// What the check of dest and its .part found, before any transfer.
enum class Found { transfer, reused, complete, failed };

// A file descriptor, owned.
class Fd {
  public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() { reset(); }
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;

    int get() const { return fd_; }
    bool is_open() const { return fd_ >= 0; }
    void reset() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

  private:
    int fd_ = -1;
};

// A libcurl easy handle, owned.
struct CurlEasy : Handle<CURL, curl_easy_cleanup> {
    CurlEasy() : Handle(curl_easy_init(), "cannot create a libcurl transfer handle") {}
};

// Everything one attempt at one request holds; a new attempt (and a released slot) starts
// from `= {}`, which also closes the .part and drops the hasher.
struct Attempt {
    std::string expected;  // lower-case checksum, empty: none
    fs::path part;         // empty in memory mode
    std::string* memory = nullptr;
    std::size_t max_bytes = 0;
    std::uint64_t* net_bytes = nullptr;

    Fd fd;                         // the .part, once the body starts
    std::uint64_t offset = 0;      // bytes in the .part before this body (the Range start)
    std::uint64_t received = 0;    // body bytes taken in this attempt
    std::optional<Hasher> hasher;  // when the body streams through from byte 0
    Response response;
    std::uint64_t discarded = 0;  // bytes of error pages
    Abort abort = Abort::none;
    std::string local_error;
    char errbuf[CURL_ERROR_SIZE] = {};
};

// One transfer slot: an easy handle, reused from request to request so its connection stays
// alive, and the attempt it carries. Its address is libcurl's callback pointer.
struct Slot {
    CurlEasy easy;
    bool busy = false;  // in any phase but idle
    Phase phase = Phase::idle;
    Task task;
    const FetchRequest* req = nullptr;
    bool sync = true;  // fsync the file before it is renamed into place
    Attempt at;

    // Written by a worker thread, read by the loop after the hand-back.
    Found found = Found::transfer;
    std::uint64_t found_bytes = 0;  // reused or complete: their size; transfer: the Range start
    Verdict verdict;

    void fail_local(const std::string& what) noexcept {
        at.abort = Abort::local;
        try {
            at.local_error = what;
        } catch (...) {
        }
    }

    // Decides where the body of the response goes, when its first bytes arrive.
    bool start_body() {
        Response& r = at.response;
        bool http = r.status != 0;
        r.discarding = http && (r.status < 200 || r.status >= 300);
        if (r.discarding || at.memory) return true;
        bool whole;
        if (r.status == 206) {
            if (r.range_start.value_or(0) != at.offset) {
                at.abort = Abort::range_mismatch;
                return false;
            }
            whole = at.offset == 0;
        } else {
            // http: a 200 is the whole file even when we asked for a range (start over);
            // file: libcurl honoured the range itself.
            whole = http || at.offset == 0;
        }
        if (whole) {
            at.offset = 0;
            if (!at.expected.empty()) at.hasher.emplace(req->checksum_type);
        }
        int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (whole ? O_TRUNC : 0);
        at.fd = Fd(::open(at.part.c_str(), flags, 0644));
        if (!at.fd.is_open()) {
            fail_local("cannot open " + at.part.string() + ": " + std::strerror(errno));
            return false;
        }
        return true;
    }

    std::size_t on_body(const char* data, std::size_t n) {
        if (!at.response.body_started) {
            at.response.body_started = true;
            if (!start_body()) return 0;
        }
        if (at.response.discarding) {
            at.discarded += n;
            if (at.discarded > kMaxErrorBody) {
                at.abort = Abort::error_body;
                return 0;
            }
            return n;
        }
        if (at.memory) {
            if (at.memory->size() + n > at.max_bytes) {
                at.abort = Abort::over_cap;
                return 0;
            }
            at.memory->append(data, n);
        } else {
            if (req->size && at.offset + at.received + n > *req->size) {
                at.abort = Abort::too_big;
                return 0;
            }
            for (std::size_t done = 0; done < n;) {
                ssize_t w = ::write(at.fd.get(), data + done, n - done);
                if (w < 0) {
                    if (errno == EINTR) continue;
                    fail_local("cannot write " + at.part.string() + ": " + std::strerror(errno));
                    return 0;
                }
                done += static_cast<std::size_t>(w);
            }
            if (at.hasher) at.hasher->update(data, n);
        }
        at.received += n;
        *at.net_bytes += n;
        return n;
    }
};

// libcurl's CURLOPT_HEADERFUNCTION and CURLOPT_WRITEFUNCTION; `user` is the Slot.
std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) noexcept;
std::size_t on_write(char* data, std::size_t size, std::size_t count, void* user) noexcept;

// Neither dest nor its .part exists, and dest's folder does (created here if missing).
bool nothing_there(const FetchRequest& req);

// Worker thread: is dest there already, is a .part there to resume or to finish? Sets
// found, found_bytes (and local_error when it failed).
void check_dest(Slot& s) noexcept;

// After a transfer that succeeded (on a worker when it syncs or must re-read the file):
// sync, check size and checksum, rename. Sets verdict.
void finalize_job(Slot& s) noexcept;

}  // namespace airstrap::mirror::fetch_impl
