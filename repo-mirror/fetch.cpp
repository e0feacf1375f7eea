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
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "common/error.hpp"
#include "common/handle.hpp"
#include "common/text.hpp"
#include "repo-mirror/fetch_http.hpp"
#include "repo-mirror/fetch_slot.hpp"
#include "repo-mirror/work_pool.hpp"

namespace airstrap::mirror {

namespace {

using namespace fetch_impl;
namespace fs = std::filesystem;

constexpr long kLowSpeedLimit = 1024;  // bytes/s, see FetchOptions::stall_timeout
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

std::string attempts_text(int n) {
    return std::to_string(n) + (n == 1 ? " attempt" : " attempts");
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

    // Called with a request's index when its file is in place (fetch_all's on_file).
    std::function<void(std::size_t)> on_file;

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
        if (on_file) on_file(task.index);
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
struct CurlMulti : Handle<CURLM, curl_multi_cleanup> {
    CurlMulti()
        : Handle((init_curl_once(), curl_multi_init()), "cannot create a libcurl multi handle") {}
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

std::vector<FetchResult> Fetcher::fetch_all(const std::vector<FetchRequest>& requests,
                                            const std::function<void(std::size_t)>& on_file) {
    if (!impl_->pool) {
        impl_->pool = std::make_unique<WorkPool>(
            std::min<std::size_t>(static_cast<std::size_t>(impl_->options.jobs), kMaxWorkers));
    }
    Engine engine(impl_->options, impl_->multi.get(), impl_->slots, impl_->pool.get(), requests,
                  nullptr, 0);
    engine.on_file = on_file;
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
