#include "provision/service.hpp"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/text.hpp"

namespace airstrap::provision {

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t nonce_lifetime = 15 * 60;
constexpr std::size_t nonces_per_node = 4;
constexpr std::size_t max_body = 4096;
constexpr std::size_t max_logged_keys = 4096;

bool is_ipv4(const std::string& s) {
    in_addr a{};
    return !s.empty() && s.size() <= 15 && ::inet_pton(AF_INET, s.c_str(), &a) == 1;
}

bool all_of(std::string_view s, int (*pred)(int)) {
    return std::all_of(s.begin(), s.end(),
                       [&](char c) { return pred(static_cast<unsigned char>(c)) != 0; });
}

bool is_hex64(std::string_view s) {
    return s.size() == 64 && all_of(s, [](int c) { return std::isxdigit(c); });
}

bool is_name(std::string_view s) {
    return !s.empty() && s.size() <= 64 && all_of(s, [](int c) {
        return std::isalnum(c) || c == '-' || c == '_' || c == '.' ? 1 : 0;
    });
}

// Peer text for a log line: printable ASCII only, at most 80 characters.
std::string printable(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 80)) {
        auto u = static_cast<unsigned char>(c);
        out += (u >= 0x20 && u < 0x7f) ? c : '?';
    }
    if (s.size() > 80) out += "…";
    return out;
}

// "installed" body: exactly node, nonce, time and mac, once each, in any order; values from
// a small alphabet (what the kickstart sends), so no percent-decoding is needed or accepted.
std::optional<std::map<std::string, std::string>> parse_report(std::string_view body) {
    std::map<std::string, std::string> fields;
    for (const auto& part : text::split(body, '&')) {
        std::size_t eq = part.find('=');
        if (eq == std::string::npos) return std::nullopt;
        std::string key = part.substr(0, eq), value = part.substr(eq + 1);
        if (key != "node" && key != "nonce" && key != "time" && key != "mac") return std::nullopt;
        if (!fields.emplace(key, value).second) return std::nullopt;
    }
    if (fields.size() != 4) return std::nullopt;
    const std::string& t = fields["time"];
    if (!is_name(fields["node"]) || !is_hex64(fields["nonce"]) || !is_hex64(fields["mac"]) ||
        t.empty() || t.size() > 12 || !all_of(t, [](int c) { return std::isdigit(c); })) {
        return std::nullopt;
    }
    return fields;
}

}  // namespace

std::string report_message(std::string_view node, std::string_view nonce, std::string_view time) {
    std::string m = "airstrap install report v1\n";
    m += node;
    m += '\n';
    m += nonce;
    m += '\n';
    m += time;
    return m;
}

Service::Service(fs::path dir, Log log, Clock clock, Random random)
    : dir_(std::move(dir)),
      config_(read_service_config(dir_)),
      store_(dir_),
      log_(std::move(log)),
      clock_(clock ? std::move(clock)
                   : [] { return static_cast<std::int64_t>(std::time(nullptr)); }),
      random_(random ? std::move(random) : crypto::random_bytes) {
    // The boot files follow the states on disk (a crash between the two, or a state file
    // restored by hand, is repaired here).
    StateFile state = store_.load();
    for (const auto& n : config_.nodes) {
        auto it = state.nodes.find(n.name);
        write_boot_files(dir_, n, it == state.nodes.end() ? BuildState::build : it->second.state);
    }
}

void Service::once_a_minute(const std::string& key, const std::string& line) {
    std::int64_t now = clock_();
    auto it = logged_.find(key);
    if (it != logged_.end() && now - it->second < 60) return;
    if (logged_.size() >= max_logged_keys) {
        std::erase_if(logged_, [&](const auto& kv) { return now - kv.second >= 60; });
        if (logged_.size() >= max_logged_keys) logged_.clear();
    }
    logged_[key] = now;
    if (log_) log_(line);
}

Response Service::refuse(int status, const std::string& client, const std::string& reason) {
    once_a_minute(client + "\n" + reason, "refused " + printable(client) + ": " + reason);
    return {status, status == 404 ? "not found\n" : "forbidden\n"};
}

Change Service::change(const NodeEntry& node, const std::function<Change(NodeState&)>& fn,
                       const std::string& line) {
    Change result = Change::unchanged;
    store_.update([&](StateFile& state) {
        NodeState& s = state.nodes[node.name];
        result = fn(s);
        return result == Change::changed;
    });
    if (result == Change::changed && log_ && !line.empty()) log_(node.name + ": " + line);
    return result;
}

Response Service::handle(std::string_view method, std::string_view url, std::string_view query_node,
                         const std::string& client, std::string_view body) {
    std::lock_guard guard(mutex_);
    if (!is_ipv4(client)) {
        return refuse(403, client.empty() ? "(no address)" : client,
                      "a request without a client address (only nginx may connect here)");
    }
    if (method == "GET" && url.starts_with("/ks/")) return kickstart(client, url.substr(4));
    if (method == "GET" && url == "/airstrap/v1/nonce") return nonce(client, query_node);
    if (method == "POST" && url == "/airstrap/v1/installed") return installed(client, body);
    return refuse(404, client, printable(method) + " " + printable(url) + ": no such resource");
}

Response Service::kickstart(const std::string& client, std::string_view name) {
    const NodeEntry* node = nullptr;
    for (const auto& n : config_.nodes) {
        if (n.kickstart == name) node = &n;
    }
    if (!node) return refuse(403, client, "/ks/" + printable(name) + " is no node's kickstart");
    if (node->address != client) {
        return refuse(403, client,
                      "asked for " + node->name + "'s kickstart, which goes only to " + node->name +
                          "'s address " + node->address);
    }
    std::string text;
    try {
        text = read_file(dir_ / kickstart_dir / node->kickstart, 4 << 20);
    } catch (const Error& e) {
        if (log_) log_(node->name + ": cannot read its kickstart: " + e.what());
        return {500, "cannot read the kickstart\n"};
    }
    Change c = change(
        *node, [&](NodeState& s) { return on_kickstart_fetched(s, clock_()); },
        "kickstart fetched (from " + client + ")");
    if (c == Change::refused) {
        return refuse(403, client,
                      "asked for " + node->name + "'s kickstart, but " + node->name +
                          " is installed (state local; 'airstrap serve " + dir_.string() +
                          " --rebuild " + node->name + "' to install it again)");
    }
    return {200, std::move(text)};
}

Response Service::nonce(const std::string& client, std::string_view name) {
    const NodeEntry* node = config_.find(name);
    if (!node)
        return refuse(403, client, "a nonce for '" + printable(name) + "', no node of the site");
    if (node->address != client) {
        return refuse(403, client,
                      "a nonce for " + node->name + " from another address than " + node->address);
    }
    StateFile state = store_.load();
    auto it = state.nodes.find(node->name);
    if (it == state.nodes.end() || it->second.state != BuildState::build) {
        return refuse(403, client, "a nonce for " + node->name + ", which is not being built");
    }
    std::int64_t now = clock_();
    auto& issued = nonces_[node->name];
    std::erase_if(issued, [&](const Issued& i) { return i.expires <= now; });
    if (issued.size() >= nonces_per_node) issued.pop_front();
    std::string n = crypto::to_hex(random_(32));
    issued.push_back({n, now + nonce_lifetime});
    return {200, n + "\n"};
}

Response Service::installed(const std::string& client, std::string_view body) {
    auto fields = parse_report(body);
    if (!fields)
        return refuse(403, client, "an install report that is not node=&nonce=&time=&mac=");
    const std::string& name = (*fields)["node"];
    const NodeEntry* node = config_.find(name);
    if (!node)
        return refuse(403, client, "an install report for '" + name + "', no node of the site");
    if (node->address != client) {
        return refuse(
            403, client,
            "an install report for " + node->name + " from another address than " + node->address);
    }
    std::int64_t now = clock_();
    auto& issued = nonces_[node->name];
    auto used = std::find_if(issued.begin(), issued.end(), [&](const Issued& i) {
        return i.nonce == (*fields)["nonce"] && i.expires > now;
    });
    if (used == issued.end()) {
        return refuse(403, client,
                      "an install report for " + node->name +
                          " with a nonce this service did not issue, or used or "
                          "expired");
    }
    issued.erase(used);  // single use, verified or not
    crypto::Bytes mac;
    crypto::from_hex((*fields)["mac"], mac);
    crypto::Bytes expected = crypto::hmac_sha256(
        node->report_key, report_message(node->name, (*fields)["nonce"], (*fields)["time"]));
    if (!crypto::equal_constant_time(mac, expected)) {
        return refuse(403, client, "an install report for " + node->name + " that does not verify");
    }
    std::int64_t skew = std::stoll((*fields)["time"]) - now;
    std::string clock = std::llabs(skew) <= 5
                            ? ""
                            : "; its clock is " + std::to_string(std::llabs(skew)) + " s " +
                                  (skew > 0 ? "ahead" : "behind");
    Change result = Change::unchanged;
    store_.update([&](StateFile& state) {
        result = on_installed(state.nodes[node->name], now);
        if (result == Change::changed) write_boot_files(dir_, *node, BuildState::local);
        return result == Change::changed;
    });
    if (result != Change::changed) {
        return refuse(403, client,
                      "an install report for " + node->name + ", which is not being built");
    }
    if (log_) {
        log_(node->name + ": installed (report verified, from " + client + clock +
             "); its next network boot boots the local disk");
    }
    return {200, "ok\n"};
}

void Service::dnsmasq_line(std::string_view line) {
    std::lock_guard guard(mutex_);
    std::int64_t now = clock_();
    if (std::size_t at = line.find("DHCPACK("); at != std::string_view::npos) {
        std::size_t close = line.find(')', at);
        if (close == std::string_view::npos) return;
        auto words = text::split(std::string(line.substr(close + 1)), ' ');
        std::erase(words, "");
        if (words.size() < 2) return;
        const NodeEntry* node = config_.find_by_mac(words[1]);
        if (!node) return;
        change(
            *node, [&](NodeState& s) { return on_dhcp(s, words[0], now); },
            "dhcp (" + words[0] + " to " + words[1] + ")");
        return;
    }
    if (std::size_t at = line.find(" sent "); at != std::string_view::npos) {
        std::size_t to = line.rfind(" to ");
        if (to == std::string_view::npos || to < at) return;
        std::string path(line.substr(at + 6, to - at - 6));
        std::string address(line.substr(to + 4));
        const NodeEntry* node = config_.find_by_address(address);
        if (!node) return;
        std::string rel = fs::path(path).lexically_relative(dir_).generic_string();
        bool config = std::any_of(node->boot_files.begin(), node->boot_files.end(),
                                  [&](const BootFile& f) { return f.path == rel; });
        std::string what;  // known once the state is read under the lock
        change(
            *node,
            [&](NodeState& s) {
                Change c = on_tftp_sent(s, config, now);
                what = s.phase == Phase::local_boot
                           ? "local boot (" + rel + ": boot the local disk)"
                           : "boot file sent (" + rel + ")";
                return c;
            },
            what);
        return;
    }
    if (std::size_t at = line.find(" not found for "); at != std::string_view::npos) {
        std::string address(line.substr(at + 15));
        const NodeEntry* node = config_.find_by_address(address);
        if (!node) return;
        std::size_t file = line.find("file ");
        std::string what =
            "TFTP: " +
            printable(line.substr(file == std::string_view::npos ? 0 : file,
                                  at - (file == std::string_view::npos ? 0 : file))) +
            " not found";
        store_.update([&](StateFile& state) {
            on_error(state.nodes[node->name], what, now);
            return true;
        });
        if (log_) log_(node->name + ": " + what);
    }
}

// ---- libmicrohttpd ------------------------------------------------------------------------

struct HttpServer::Daemon {
    MHD_Daemon* handle = nullptr;
    ~Daemon() {
        if (handle) MHD_stop_daemon(handle);
    }
};

namespace {

struct Request {
    std::string body;
    bool too_big = false;
};

MHD_Result queue(MHD_Connection* connection, const Response& r) {
    MHD_Response* response = MHD_create_response_from_buffer(
        r.body.size(), const_cast<char*>(r.body.data()), MHD_RESPMEM_MUST_COPY);
    if (!response) return MHD_NO;
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, r.content_type.c_str());
    MHD_Result ok = MHD_queue_response(connection, static_cast<unsigned>(r.status), response);
    MHD_destroy_response(response);
    return ok;
}

MHD_Result on_request(void* cls, MHD_Connection* connection, const char* url, const char* method,
                      const char* /*version*/, const char* data, size_t* size, void** context) {
    auto* service = static_cast<Service*>(cls);
    if (!*context) {
        *context = new Request;
        return MHD_YES;
    }
    auto* request = static_cast<Request*>(*context);
    if (*size != 0) {
        if (request->body.size() + *size > max_body) {
            request->too_big = true;
        } else {
            request->body.append(data, *size);
        }
        *size = 0;
        return MHD_YES;
    }
    if (request->too_big) return queue(connection, {413, "too large\n"});
    const char* client =
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "X-Airstrap-Client");
    const char* node = MHD_lookup_connection_value(connection, MHD_GET_ARGUMENT_KIND, "node");
    Response r;
    try {
        r = service->handle(method ? method : "", url ? url : "", node ? node : "",
                            client ? client : "", request->body);
    } catch (const std::exception& e) {
        r = {500, "internal error\n"};
        std::fprintf(stderr, "request %s: %s\n", url ? url : "", e.what());
    }
    return queue(connection, r);
}

void on_completed(void* /*cls*/, MHD_Connection* /*connection*/, void** context,
                  MHD_RequestTerminationCode /*code*/) {
    delete static_cast<Request*>(*context);
    *context = nullptr;
}

}  // namespace

HttpServer::HttpServer(int listen_fd, Service& service) : daemon_(std::make_unique<Daemon>()) {
    daemon_->handle =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, nullptr, nullptr,
                         &on_request, &service, MHD_OPTION_LISTEN_SOCKET, listen_fd,
                         MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
                         MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<size_t>(64 * 1024),
                         MHD_OPTION_NOTIFY_COMPLETED, &on_completed, nullptr, MHD_OPTION_END);
    if (!daemon_->handle) throw Error("libmicrohttpd would not start on the service's socket");
}

HttpServer::~HttpServer() = default;

int run_service(const fs::path& dir, const fs::path& socket_path, int events_fd,
                const Service::Log& log) {
    Service service(dir, log);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_path.string().size() >= sizeof addr.sun_path) {
        throw InputError(socket_path.string() + ": too long for a unix socket");
    }
    std::strcpy(addr.sun_path, socket_path.c_str());
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw SystemError("socket", errno);
    ::unlink(socket_path.c_str());
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::chmod(socket_path.c_str(), 0660) != 0 || ::listen(fd, 64) != 0) {
        int e = errno;
        ::close(fd);
        throw SystemError("cannot listen on " + socket_path.string(), e);
    }
    struct Cleanup {
        int fd;
        fs::path path;
        ~Cleanup() {
            ::unlink(path.c_str());
            ::close(fd);
        }
    } cleanup{fd, socket_path};

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    int sfd = ::signalfd(-1, &mask, SFD_CLOEXEC);
    if (sfd < 0) throw SystemError("signalfd", errno);

    HttpServer http(fd, service);
    if (log) {
        log("serving the kickstarts and install reports of " +
            std::to_string(service.config().nodes.size()) + " nodes on " + socket_path.string());
    }
    std::string partial;
    char buf[4096];
    while (true) {
        pollfd fds[2] = {{sfd, POLLIN, 0}, {events_fd, POLLIN, 0}};
        int n = ::poll(fds, 2, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw SystemError("poll", errno);
        if (fds[0].revents) break;
        if (fds[1].revents) {
            ssize_t got = ::read(events_fd, buf, sizeof buf);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) break;
            partial.append(buf, static_cast<std::size_t>(got));
            std::size_t nl;
            while ((nl = partial.find('\n')) != std::string::npos) {
                service.dnsmasq_line(std::string_view(partial).substr(0, nl));
                partial.erase(0, nl + 1);
            }
            if (partial.size() > 65536) partial.clear();
        }
    }
    ::close(sfd);
    return 0;
}

}  // namespace airstrap::provision
