#include "repo-mirror/fetch_http.hpp"

#include <charconv>
#include <system_error>

#include "common/text.hpp"

namespace airstrap::mirror::fetch_impl {

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

Response parse_status_line(std::string_view line) {
    Response r;
    auto space = line.find(' ');
    if (space == std::string_view::npos) return r;
    auto rest = line.substr(space + 1);
    std::from_chars(rest.data(), rest.data() + rest.size(), r.status);
    auto space2 = rest.find(' ');
    if (space2 != std::string_view::npos) r.reason = text::trim(rest.substr(space2 + 1));
    return r;
}

std::optional<std::uint64_t> parse_content_range(std::string_view header) {
    std::string value = text::trim(header);
    if (!starts_with_nocase(value, "bytes ")) return std::nullopt;
    value = text::trim(std::string_view(value).substr(6));
    std::uint64_t start = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), start);
    if (ec == std::errc{} && end != value.data() + value.size() && *end == '-') return start;
    return std::nullopt;
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

}  // namespace airstrap::mirror::fetch_impl
