// The fetcher's loop runs on the calling thread: it hands requests to a fixed set of slots
// (one libcurl easy handle each, reused), drives them with curl_multi_perform/poll, streams
// bodies to .part files from the write callback, and keeps retries in a heap ordered by
// their ready time. The disk work around a transfer (the reuse check, verifying and syncing
// the .part, the rename) goes to a small thread pool, which hands the slot back and wakes
// the loop with curl_multi_wakeup. A slot is busy from check to rename, so at most `jobs`
// files are in progress and memory is bounded whatever the number of requests.
#include "repo-mirror/fetch.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "common/error.hpp"
#include "common/text.hpp"

namespace airstrap::mirror {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr long kMaxRedirects = 5;
constexpr long kLowSpeedLimit = 1024;             // bytes/s, see FetchOptions::stall_timeout
constexpr std::uint64_t kMaxErrorBody = 1 << 20;  // of a 4xx/5xx page, read and dropped
constexpr auto kProgressInterval = std::chrono::milliseconds(100);
constexpr auto kConflictDelay = std::chrono::milliseconds(5);  // same dest already in flight
constexpr int kMaxPollMs = 1000;
constexpr std::size_t kMaxWorkers = 8;  // threads for hashing, fsync and rename

void init_curl_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            throw Error("cannot initialise libcurl");
        }
    });
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && text::to_lower(s.substr(0, prefix.size())) == prefix;
}

// Why the URL is not one we fetch, or nothing when its scheme is http, https or file.
std::optional<std::string> scheme_problem(const std::string& url) {
    auto colon = url.find("://");
    if (colon == std::string::npos || colon == 0) {
        return std::string("not an absolute URL (expected http://, https:// or file://)");
    }
    std::string scheme = text::to_lower(std::string_view(url).substr(0, colon));
    if (scheme == "http" || scheme == "https" || scheme == "file") return std::nullopt;
    return "unsupported URL scheme '" + scheme + "' (only http, https and file)";
}

const char* reason_phrase(long status) {
    switch (status) {
        case 300:
            return "Multiple Choices";
        case 301:
            return "Moved Permanently";
        case 302:
            return "Found";
        case 303:
            return "See Other";
        case 304:
            return "Not Modified";
        case 307:
            return "Temporary Redirect";
        case 308:
            return "Permanent Redirect";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 406:
            return "Not Acceptable";
        case 407:
            return "Proxy Authentication Required";
        case 408:
            return "Request Timeout";
        case 410:
            return "Gone";
        case 416:
            return "Range Not Satisfiable";
        case 429:
            return "Too Many Requests";
        case 500:
            return "Internal Server Error";
        case 501:
            return "Not Implemented";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        default:
            return "";
    }
}

fs::path part_path(const fs::path& dest) {
    fs::path part = dest;
    part += ".part";
    return part;
}

void remove_quietly(const fs::path& path) noexcept {
    std::error_code ec;
    fs::remove(path, ec);
}

std::string attempts_text(int n) {
    return std::to_string(n) + (n == 1 ? " attempt" : " attempts");
}

// What became of one attempt.
enum class Kind {
    ok,
    retry,             // transient: try again after the backoff, resuming the .part
    retry_fresh,       // the .part is bad: delete it, then try again from byte 0
    permanent,         // give up; keep any .part (a local error; a later run may resume)
    permanent_delete,  // give up and delete the .part (the server said no)
};

struct Verdict {
    Kind kind = Kind::ok;
    std::string what;  // without the URL
};

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
class CurlEasy {
  public:
    CurlEasy() : h_(curl_easy_init()) {
        if (!h_) throw Error("cannot create a libcurl transfer handle");
    }
    ~CurlEasy() {
        if (h_) curl_easy_cleanup(h_);
    }
    CurlEasy(CurlEasy&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
    CurlEasy& operator=(CurlEasy&& other) noexcept {
        if (this != &other) {
            if (h_) curl_easy_cleanup(h_);
            h_ = std::exchange(other.h_, nullptr);
        }
        return *this;
    }
    CurlEasy(const CurlEasy&) = delete;
    CurlEasy& operator=(const CurlEasy&) = delete;

    CURL* get() const { return h_; }

  private:
    CURL* h_;
};

// The latest response's status line and what its headers said; a redirect starts another.
struct Response {
    long status = 0;  // 0 for file://
    std::string reason;
    std::optional<std::uint64_t> range_start;  // from Content-Range
    bool body_started = false;
    bool discarding = false;  // an error page: read and dropped
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

    void on_status_line(std::string_view line) {
        at.response = {};
        Response& r = at.response;
        auto space = line.find(' ');
        if (space == std::string_view::npos) return;
        auto rest = line.substr(space + 1);
        std::from_chars(rest.data(), rest.data() + rest.size(), r.status);
        auto space2 = rest.find(' ');
        if (space2 != std::string_view::npos) r.reason = text::trim(rest.substr(space2 + 1));
    }

    void on_content_range(std::string_view header) {
        std::string value = text::trim(header);
        if (!starts_with_nocase(value, "bytes ")) return;
        value = text::trim(std::string_view(value).substr(6));
        std::uint64_t start = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), start);
        if (ec == std::errc{} && end != value.data() + value.size() && *end == '-') {
            at.response.range_start = start;
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

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) noexcept {
    auto* slot = static_cast<Slot*>(user);
    std::size_t n = size * count;
    try {
        std::string_view line(data, n);
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
        if (line.starts_with("HTTP/")) {
            slot->on_status_line(line);
        } else if (starts_with_nocase(line, "content-range:")) {
            slot->on_content_range(line.substr(14));
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

Verdict judge_curl(CURLcode rc, const char* errbuf) {
    std::string detail = text::trim(errbuf[0] ? std::string_view(errbuf) : curl_easy_strerror(rc));
    auto with = [&](Kind kind, std::string what) {
        return Verdict{kind, what + " (" + detail + ")"};
    };
    bool reset = detail.find("reset") != std::string::npos;
    switch (rc) {
        case CURLE_COULDNT_CONNECT:
            return with(Kind::retry, "cannot connect");
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
            return with(Kind::retry, "cannot resolve the host");
        case CURLE_OPERATION_TIMEDOUT:
            return with(Kind::retry,
                        detail.find("too slow") != std::string::npos ? "stalled" : "timed out");
        case CURLE_PARTIAL_FILE:
            return with(Kind::retry, "connection closed before the end of the body");
        case CURLE_RECV_ERROR:
            return with(Kind::retry, reset ? "connection reset" : "receive error");
        case CURLE_SEND_ERROR:
            return with(Kind::retry, reset ? "connection reset" : "send error");
        case CURLE_GOT_NOTHING:
            return with(Kind::retry, "connection closed without a reply");
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_HTTP3:
        case CURLE_QUIC_CONNECT_ERROR:
        case CURLE_SSL_CONNECT_ERROR:
            return with(Kind::retry, "protocol error");
        case CURLE_RANGE_ERROR:
            return with(Kind::retry_fresh, "resume refused");
        case CURLE_TOO_MANY_REDIRECTS:
            return with(Kind::permanent_delete,
                        "more than " + std::to_string(kMaxRedirects) + " redirects");
        case CURLE_UNSUPPORTED_PROTOCOL:
            return with(Kind::permanent_delete, "redirected to an unsupported scheme");
        case CURLE_FILE_COULDNT_READ_FILE:
            return with(Kind::permanent_delete, "cannot read");
        default:
            return with(Kind::permanent, "transfer failed");
    }
}

// A few threads for the disk work around a transfer (hashing, fsync, rename), so the loop
// that drives libcurl never waits on the disk.
class WorkPool {
  public:
    explicit WorkPool(std::size_t threads) {
        try {
            for (std::size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
        } catch (...) {
            stop();
            throw;
        }
    }
    ~WorkPool() { stop(); }
    WorkPool(const WorkPool&) = delete;
    WorkPool& operator=(const WorkPool&) = delete;

    void submit(std::function<void()> job) {
        {
            std::lock_guard lock(mu_);
            jobs_.push_back(std::move(job));
        }
        cv_.notify_one();
    }

  private:
    void work() {
        while (true) {
            std::function<void()> job;
            {
                std::unique_lock lock(mu_);
                cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
                if (jobs_.empty()) return;
                job = std::move(jobs_.front());
                jobs_.pop_front();
            }
            job();  // jobs catch their own exceptions
        }
    }

    void stop() noexcept {
        {
            std::lock_guard lock(mu_);
            stopping_ = true;
        }
        cv_.notify_all();
        for (auto& t : workers_) {
            if (t.joinable()) t.join();
        }
    }

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> jobs_;
    bool stopping_ = false;
    std::vector<std::thread> workers_;
};

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

// Neither dest nor its .part exists, and dest's folder does (created here if missing).
bool nothing_there(const FetchRequest& req) {
    struct stat st {};
    if (::stat(req.dest.c_str(), &st) == 0 || errno != ENOENT) return false;
    if (::stat(part_path(req.dest).c_str(), &st) == 0 || errno != ENOENT) return false;
    std::error_code ec;
    if (req.dest.has_parent_path()) fs::create_directories(req.dest.parent_path(), ec);
    return !ec;
}

// Worker thread: is dest there already, is a .part there to resume or to finish?
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

// After a transfer that succeeded (on a worker when it syncs or must re-read the file):
// sync, check size and checksum, rename.
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

// One fetch_all or fetch_to_memory call: hands requests to slots as they free up, drives
// libcurl, sends disk work to the pool, schedules retries. Everything but the pool jobs runs
// on the calling thread.
class Engine {
  public:
    Engine(const FetchOptions& options, CURLM* multi, std::vector<std::unique_ptr<Slot>>& slots,
           WorkPool* pool, const std::vector<FetchRequest>& requests, std::string* memory,
           std::size_t max_bytes)
        : opt_(options),
          multi_(multi),
          slots_(slots),
          pool_(pool),
          reqs_(requests),
          memory_(memory),
          max_bytes_(max_bytes) {}

    ~Engine() {
        // Pool jobs use our slots and requests: wait for them before anything goes away.
        {
            std::unique_lock lock(done_mu_);
            done_cv_.wait(lock, [this] { return in_pool_ == 0; });
        }
        for (auto& slot : slots_) {
            if (!slot->busy) continue;
            if (slot->phase == Phase::transfer) curl_multi_remove_handle(multi_, slot->easy.get());
            slot->at = {};
            slot->busy = false;
            slot->phase = Phase::idle;
        }
    }
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    std::vector<FetchResult> run() {
        results_.resize(reqs_.size());
        progress_.files_total = reqs_.size();
        for (std::size_t i = 0; i < reqs_.size(); ++i) {
            results_[i].url = reqs_[i].url;
            progress_.bytes_total += reqs_[i].size.value_or(0);
        }
        while (true) {
            fill(Clock::now());
            if (busy_ == 0 && waiting_.empty() && next_ >= reqs_.size()) break;
            std::size_t events = 0;
            if (active_ > 0) {
                int running = 0;
                check(curl_multi_perform(multi_, &running), "curl_multi_perform");
                events += drain_curl();
            }
            events += drain_pool();
            report(false);
            if (events > 0 || can_start(Clock::now())) continue;
            int timeout = kMaxPollMs;
            if (busy_ < slot_limit() && !waiting_.empty()) {
                auto wait = std::chrono::ceil<std::chrono::milliseconds>(waiting_.front().ready -
                                                                         Clock::now());
                timeout = static_cast<int>(std::clamp<std::int64_t>(wait.count(), 0, kMaxPollMs));
                if (timeout == 0) continue;
            }
            // Returns on socket activity, libcurl's own timers, or a pool job's wakeup.
            check(curl_multi_poll(multi_, nullptr, 0, timeout, nullptr), "curl_multi_poll");
        }
        report(true);
        return std::move(results_);
    }

  private:
    static void check(CURLMcode mc, const char* what) {
        if (mc != CURLM_OK) throw Error(std::string(what) + ": " + curl_multi_strerror(mc));
    }

    std::size_t slot_limit() const { return static_cast<std::size_t>(opt_.jobs); }

    static bool later(const Task& a, const Task& b) { return a.ready > b.ready; }

    void push_waiting(Task task) {
        waiting_.push_back(std::move(task));
        std::push_heap(waiting_.begin(), waiting_.end(), later);
    }

    Task pop_waiting() {
        std::pop_heap(waiting_.begin(), waiting_.end(), later);
        Task task = std::move(waiting_.back());
        waiting_.pop_back();
        return task;
    }

    bool can_start(Clock::time_point now) const {
        if (busy_ >= slot_limit()) return false;
        return next_ < reqs_.size() || (!waiting_.empty() && waiting_.front().ready <= now);
    }

    Slot* free_slot() {
        for (auto& slot : slots_) {
            if (!slot->busy) return slot.get();
        }
        slots_.push_back(std::make_unique<Slot>());
        return slots_.back().get();
    }

    bool dest_in_flight(const fs::path& dest) const {
        for (const auto& slot : slots_) {
            if (slot->busy && slot->req->dest == dest) return true;
        }
        return false;
    }

    // Takes up work that is due while slots are free.
    void fill(Clock::time_point now) {
        while (can_start(now)) {
            Task task;
            if (!waiting_.empty() && waiting_.front().ready <= now) {
                task = pop_waiting();
            } else {
                task.index = next_++;
            }
            const FetchRequest& req = reqs_[task.index];
            if (!task.checked) {
                if (auto problem = scheme_problem(req.url)) {
                    fail(task, *problem);
                    continue;
                }
            }
            if (!memory_ && dest_in_flight(req.dest)) {  // the same file twice: one at a time
                task.ready = now + kConflictDelay;
                push_waiting(std::move(task));
                continue;
            }
            Slot& slot = *free_slot();
            slot.busy = true;
            ++busy_;
            slot.req = &req;
            slot.sync = opt_.sync_each_file;
            slot.task = std::move(task);
            if (memory_) {
                slot.task.checked = true;
                begin(slot, 0);
            } else if (!slot.task.checked && nothing_there(req)) {
                // The usual case: neither the file nor a .part. Two stats do not need the pool.
                slot.task.checked = true;
                begin(slot, 0);
            } else {
                slot.phase = Phase::checking;
                to_pool(slot, check_dest);
            }
        }
    }

    void to_pool(Slot& slot, void (*job)(Slot&) noexcept) {
        {
            std::lock_guard lock(done_mu_);
            ++in_pool_;
        }
        Slot* s = &slot;
        CURLM* multi = multi_;
        try {
            pool_->submit([this, s, job, multi] {
                job(*s);
                {
                    // Notified under the lock: once it is released the Engine may be gone,
                    // and only the multi handle (the Fetcher's) is touched after.
                    std::lock_guard lock(done_mu_);
                    done_.push_back(s);
                    --in_pool_;
                    done_cv_.notify_all();
                }
                curl_multi_wakeup(multi);
            });
        } catch (...) {
            std::lock_guard lock(done_mu_);
            --in_pool_;
            throw;
        }
    }

    // Slots back from the pool.
    std::size_t drain_pool() {
        std::vector<Slot*> done;
        {
            std::lock_guard lock(done_mu_);
            done.swap(done_);
        }
        for (Slot* s : done) {
            if (s->phase == Phase::checking) {
                checked(*s);
            } else {
                conclude(*s, s->verdict);
            }
        }
        return done.size();
    }

    void checked(Slot& s) {
        switch (s.found) {
            case Found::reused: {
                skipped_bytes_ += s.found_bytes;
                Task task = release(s);
                succeed(task, true);
                return;
            }
            case Found::complete: {
                skipped_bytes_ += s.found_bytes;
                Task task = release(s);
                succeed(task, false);
                return;
            }
            case Found::failed: {
                std::string what = std::move(s.at.local_error);
                Task task = release(s);
                fail(task, what);
                return;
            }
            case Found::transfer:
                s.task.checked = true;
                begin(s, s.found_bytes);
                return;
        }
    }

    Task release(Slot& s) {
        s.at = {};
        s.busy = false;
        s.phase = Phase::idle;
        --busy_;
        return std::move(s.task);
    }

    void begin(Slot& s, std::uint64_t offset) {
        const FetchRequest& req = *s.req;
        ++s.task.attempts;
        s.phase = Phase::transfer;
        s.at = {};
        s.at.expected = text::to_lower(req.checksum);
        s.at.part = memory_ ? fs::path() : part_path(req.dest);
        s.at.memory = memory_;
        if (memory_) memory_->clear();
        s.at.max_bytes = max_bytes_;
        s.at.net_bytes = &net_bytes_;
        s.at.offset = offset;

        CURL* h = s.easy.get();
        curl_easy_reset(h);
        if (curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https,file") != CURLE_OK ||
            curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK) {
            throw Error("this libcurl cannot restrict protocols (CURLOPT_PROTOCOLS_STR)");
        }
        curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
        curl_easy_setopt(h, CURLOPT_PRIVATE, static_cast<void*>(&s));
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, s.at.errbuf);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, static_cast<void*>(&s));
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, static_cast<void*>(&s));
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, kMaxRedirects);
        curl_easy_setopt(h, CURLOPT_FAILONERROR, 0L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(
            h, CURLOPT_CONNECTTIMEOUT_MS,
            static_cast<long>(std::chrono::milliseconds(opt_.connect_timeout).count()));
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, kLowSpeedLimit);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(opt_.stall_timeout.count()));
        curl_easy_setopt(h, CURLOPT_USERAGENT, "airstrap");
        curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
        // Wait for a connection that may multiplex (HTTP/2 over TLS) rather than open another.
        if (starts_with_nocase(req.url, "https:")) curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L);
        if (offset > 0) {
            // A plain Range rather than CURLOPT_RESUME_FROM_LARGE: libcurl then leaves a
            // 200 answer to us (start over) instead of failing it with CURLE_RANGE_ERROR.
            std::string range = std::to_string(offset) + "-";
            curl_easy_setopt(h, CURLOPT_RANGE, range.c_str());
        }
        check(curl_multi_add_handle(multi_, h), "curl_multi_add_handle");
        ++active_;
    }

    std::size_t drain_curl() {
        std::size_t n = 0;
        int left = 0;
        while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
            if (msg->msg != CURLMSG_DONE) continue;
            CURL* easy = msg->easy_handle;
            CURLcode rc = msg->data.result;
            char* priv = nullptr;
            curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
            transfer_done(*reinterpret_cast<Slot*>(priv), rc);
            ++n;
        }
        return n;
    }

    Verdict judge(Slot& s, CURLcode rc) {
        switch (s.at.abort) {
            case Abort::local:
                return {Kind::permanent, s.at.local_error};
            case Abort::too_big:
                return {Kind::retry_fresh, "file is larger than the " +
                                               std::to_string(*s.req->size) +
                                               " bytes repodata says"};
            case Abort::over_cap:
                return {Kind::permanent,
                        "larger than " + std::to_string(s.at.max_bytes) + " bytes"};
            case Abort::range_mismatch:
                return {Kind::retry_fresh, "the server answered with another range than asked for"};
            case Abort::error_body:
            case Abort::none:
                break;
        }
        if (rc == CURLE_TOO_MANY_REDIRECTS || rc == CURLE_UNSUPPORTED_PROTOCOL) {
            return judge_curl(rc, s.at.errbuf);
        }
        long status = 0;
        curl_easy_getinfo(s.easy.get(), CURLINFO_RESPONSE_CODE, &status);
        if (status >= 300) {
            std::string reason = status == s.at.response.status && !s.at.response.reason.empty()
                                     ? s.at.response.reason
                                     : reason_phrase(status);
            std::string what = "HTTP " + std::to_string(status);
            if (!reason.empty()) what += " " + reason;
            if (status == 416 && s.at.offset > 0) return {Kind::retry_fresh, what};
            if (status == 408 || status == 429 || status >= 500) return {Kind::retry, what};
            return {Kind::permanent_delete, what};
        }
        if (rc != CURLE_OK) return judge_curl(rc, s.at.errbuf);
        return {Kind::ok, {}};
    }

    void transfer_done(Slot& s, CURLcode rc) {
        curl_multi_remove_handle(multi_, s.easy.get());
        --active_;
        s.task.bytes += s.at.received;
        Verdict v;
        try {
            v = judge(s, rc);
        } catch (const std::exception& e) {
            v = {Kind::permanent, describe(e)};
        }
        if (v.kind == Kind::ok && !memory_) {
            if (!s.sync && (s.at.hasher || s.at.expected.empty())) {
                // Hashed as it streamed and not synced: a stat and a rename, done here.
                finalize_job(s);
                conclude(s, s.verdict);
                return;
            }
            s.phase = Phase::finishing;
            to_pool(s, finalize_job);
            return;
        }
        conclude(s, v);
    }

    // The attempt is over: the file is in place, or it failed, or it waits for a retry.
    void conclude(Slot& s, const Verdict& v) {
        fs::path part = std::move(s.at.part);
        Task task = release(s);
        switch (v.kind) {
            case Kind::ok:
                succeed(task, false);
                return;
            case Kind::permanent_delete:
                if (!memory_) remove_quietly(part);
                [[fallthrough]];
            case Kind::permanent:
                fail(task, v.what);
                return;
            case Kind::retry_fresh:
                if (!memory_) remove_quietly(part);
                [[fallthrough]];
            case Kind::retry:
                if (task.attempts >= opt_.max_attempts) {
                    fail(task, v.what + " after " + attempts_text(task.attempts));
                    return;
                }
                task.ready = Clock::now() + opt_.backoff * (1LL << std::min(task.attempts - 1, 20));
                push_waiting(std::move(task));
                return;
        }
    }

    void succeed(const Task& task, bool reused) {
        FetchResult& r = results_[task.index];
        r.ok = true;
        r.reused = reused;
        r.bytes = task.bytes;
        r.attempts = task.attempts;
        r.error.clear();
        ++progress_.files_done;
        report(true);
    }

    void fail(const Task& task, const std::string& what) {
        FetchResult& r = results_[task.index];
        r.ok = false;
        r.reused = false;
        r.bytes = task.bytes;
        r.attempts = task.attempts;
        r.error = r.url + ": " + what;
        ++progress_.files_done;
        report(true);
    }

    void report(bool force) {
        if (!opt_.on_progress || memory_) return;
        progress_.bytes_done = net_bytes_ + skipped_bytes_;
        auto now = Clock::now();
        if (!force &&
            (progress_.bytes_done == last_bytes_ || now - last_report_ < kProgressInterval)) {
            return;
        }
        last_report_ = now;
        last_bytes_ = progress_.bytes_done;
        opt_.on_progress(progress_);
    }

    const FetchOptions& opt_;
    CURLM* multi_;
    std::vector<std::unique_ptr<Slot>>& slots_;
    WorkPool* pool_;
    const std::vector<FetchRequest>& reqs_;
    std::string* memory_;
    std::size_t max_bytes_;

    std::vector<FetchResult> results_;
    std::vector<Task> waiting_;  // a min-heap on ready: retries and deferred requests
    std::size_t next_ = 0;       // the next request not yet taken up
    std::size_t busy_ = 0;       // slots in any phase
    std::size_t active_ = 0;     // slots with a transfer in libcurl
    FetchProgress progress_;
    std::uint64_t net_bytes_ = 0;      // received over the network, all attempts
    std::uint64_t skipped_bytes_ = 0;  // already on disk: reused files, complete .parts
    std::uint64_t last_bytes_ = 0;
    Clock::time_point last_report_{};

    std::mutex done_mu_;  // guards done_ and in_pool_
    std::condition_variable done_cv_;
    std::vector<Slot*> done_;  // back from the pool
    std::size_t in_pool_ = 0;
};

}  // namespace

namespace {

// A libcurl multi handle, owned.
class CurlMulti {
  public:
    CurlMulti() : h_((init_curl_once(), curl_multi_init())) {
        if (!h_) throw Error("cannot create a libcurl multi handle");
    }
    ~CurlMulti() {
        if (h_) curl_multi_cleanup(h_);
    }
    CurlMulti(CurlMulti&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
    CurlMulti& operator=(CurlMulti&& other) noexcept {
        if (this != &other) {
            if (h_) curl_multi_cleanup(h_);
            h_ = std::exchange(other.h_, nullptr);
        }
        return *this;
    }
    CurlMulti(const CurlMulti&) = delete;
    CurlMulti& operator=(const CurlMulti&) = delete;

    CURLM* get() const { return h_; }

  private:
    CURLM* h_;
};

}  // namespace

struct Fetcher::Impl {
    FetchOptions options;
    // Members go in reverse order: the pool's threads first (a job may still wake the multi
    // handle), then the slots' easy handles (an Engine has detached them), the multi last.
    CurlMulti multi;
    std::vector<std::unique_ptr<Slot>> slots;  // at most options.jobs, made as needed
    std::unique_ptr<WorkPool> pool;            // started by the first fetch_all

    explicit Impl(FetchOptions opts) : options(std::move(opts)) {
        if (options.jobs < 1) {
            throw Error("fetch: jobs must be at least 1, not " + std::to_string(options.jobs));
        }
        if (options.max_attempts < 1) {
            throw Error("fetch: max_attempts must be at least 1, not " +
                        std::to_string(options.max_attempts));
        }
        if (options.backoff.count() < 0 || options.connect_timeout.count() < 0 ||
            options.stall_timeout.count() < 0) {
            throw Error("fetch: negative backoff or timeout");
        }
        curl_multi_setopt(multi.get(), CURLMOPT_MAX_HOST_CONNECTIONS,
                          static_cast<long>(options.jobs));
        curl_multi_setopt(multi.get(), CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX));
    }

    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
};

Fetcher::Fetcher(FetchOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Fetcher::~Fetcher() = default;

std::vector<FetchResult> Fetcher::fetch_all(const std::vector<FetchRequest>& requests) {
    if (!impl_->pool) {
        impl_->pool = std::make_unique<WorkPool>(
            std::min<std::size_t>(static_cast<std::size_t>(impl_->options.jobs), kMaxWorkers));
    }
    Engine engine(impl_->options, impl_->multi.get(), impl_->slots, impl_->pool.get(), requests,
                  nullptr, 0);
    return engine.run();
}

std::string Fetcher::fetch_to_memory(const std::string& url, std::size_t max_bytes) {
    std::vector<FetchRequest> one(1);
    one[0].url = url;
    std::string body;
    Engine engine(impl_->options, impl_->multi.get(), impl_->slots, nullptr, one, &body, max_bytes);
    auto results = engine.run();
    if (!results[0].ok) throw Error(results[0].error);
    return body;
}

}  // namespace airstrap::mirror
