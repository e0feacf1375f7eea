// The fetcher's reading of what came back: the URL schemes it takes, HTTP status lines and
// Content-Range, and libcurl's result codes, each turned into a verdict on the attempt
// (done, retry, retry from byte 0, give up). No I/O; used by fetch.cpp's transfer loop.
#pragma once

#include <curl/curl.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace airstrap::mirror::fetch_impl {

inline constexpr long kMaxRedirects = 5;

bool starts_with_nocase(std::string_view s, std::string_view prefix);

// Why the URL is not one we fetch, or nothing when its scheme is http, https or file.
std::optional<std::string> scheme_problem(const std::string& url);

// "Not Found" for 404; "" for a status without a phrase here.
const char* reason_phrase(long status);

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

// The latest response's status line and what its headers said; a redirect starts another.
struct Response {
    long status = 0;  // 0 for file://
    std::string reason;
    std::optional<std::uint64_t> range_start;  // from Content-Range
    bool body_started = false;
    bool discarding = false;  // an error page: read and dropped
};

// "HTTP/1.1 206 Partial Content" (CR LF removed): status and reason, the rest cleared.
Response parse_status_line(std::string_view line);
// The start of "bytes 100-199/200", the value of a Content-Range header.
std::optional<std::uint64_t> parse_content_range(std::string_view value);

// What a failed libcurl transfer means; `errbuf` is its CURLOPT_ERRORBUFFER.
Verdict judge_curl(CURLcode rc, const char* errbuf);

}  // namespace airstrap::mirror::fetch_impl
