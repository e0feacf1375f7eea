// Parallel HTTP(S) downloads for the repository mirror, on libcurl's multi interface:
// N transfers at once over kept-alive (HTTP/2 where offered) connections, retries with
// backoff on 5xx, timeouts, resets and short bodies, resume with Range, and a checksum
// before a file counts. Memory stays bounded: bodies stream to disk.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/checksum.hpp"

namespace airstrap::mirror {

struct FetchRequest {
    std::string url;
    std::filesystem::path dest;  // written as dest + ".part", renamed when verified
    ChecksumType checksum_type = ChecksumType::sha256;
    std::string checksum;               // lower-case hex; empty: no check (metadata bootstrap only)
    std::optional<std::uint64_t> size;  // expected size, when known
};

struct FetchResult {
    std::string url;
    bool ok = false;
    bool reused = false;      // dest already existed with the right checksum: nothing fetched
    std::uint64_t bytes = 0;  // bytes received over the network for this file
    int attempts = 0;
    std::string error;  // empty when ok; otherwise names the URL and says what went wrong
};

struct FetchProgress {
    std::size_t files_done = 0, files_total = 0;
    std::uint64_t bytes_done = 0, bytes_total = 0;  // bytes_total counts known sizes only
};

struct FetchOptions {
    int jobs = 8;                            // transfers in flight
    int max_attempts = 5;                    // per file, counting the first
    std::chrono::milliseconds backoff{250};  // doubled after every failed attempt
    std::chrono::seconds connect_timeout{15};
    std::chrono::seconds stall_timeout{30};  // abort a transfer that moves < 1 KiB/s this long
    std::function<void(const FetchProgress&)> on_progress;  // called from fetch_all's thread
    // fsync every file before renaming it into place. A caller that syncs the whole tree once
    // at the end (the mirror does, before publishing) turns this off: on a slow disk the
    // per-file syncs cost more than the transfers.
    bool sync_each_file = true;
};

class Fetcher {
  public:
    explicit Fetcher(FetchOptions options = {});
    ~Fetcher();
    Fetcher(const Fetcher&) = delete;
    Fetcher& operator=(const Fetcher&) = delete;

    // Fetches every request; never throws for a failed transfer (see FetchResult::error),
    // only for misuse or when libcurl cannot start. Results are in request order.
    // `on_file(i)`, when given, is called as soon as request i's file is verified and in
    // place (or found there), from the thread that drives the transfers: it must hand its
    // work off, not do it.
    std::vector<FetchResult> fetch_all(const std::vector<FetchRequest>& requests,
                                       const std::function<void(std::size_t)>& on_file = {});

    // A small document (repomd.xml) into memory; throws airstrap::Error naming the URL
    // when it fails after retries or is larger than max_bytes.
    std::string fetch_to_memory(const std::string& url, std::size_t max_bytes);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace airstrap::mirror
