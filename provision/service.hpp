// The provisioning service of `airstrap serve`: it alone reads the kickstarts and changes the
// nodes' states. Behind nginx on a unix socket (only nginx's workers and the tree's owner can
// connect), which passes the client's address in X-Airstrap-Client (nginx replaces any such
// header a client sends).
//
//   GET  /ks/nodes/NODE.ks                 NODE's kickstart, to NODE's address, in build
//   GET  /airstrap/v1/nonce?node=NODE      a fresh nonce (single use, 15 min), same rule
//   POST /airstrap/v1/installed            node=&nonce=&time=&mac=: the install report
//
// Anything else is 403 (or 404 for unknown paths) and logged, once per address and reason a
// minute. A report verifies when its mac is HMAC-SHA256(report key, report_message(…)) over
// a nonce this service issued to that node and that was not used. dnsmasq's log lines
// (dnsmasq_line) move the nodes through dhcp and "boot file sent".
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "provision/store.hpp"
#include "provision/tree.hpp"

namespace airstrap::provision {

// "airstrap install report v1\nNODE\nNONCE\nTIME": what the kickstart's %post signs.
std::string report_message(std::string_view node, std::string_view nonce, std::string_view time);

struct Response {
    int status = 200;
    std::string body;
    std::string content_type = "text/plain";
};

class Service {
  public:
    using Log = std::function<void(const std::string&)>;
    using Clock = std::function<std::int64_t()>;  // Unix seconds
    using Random = std::function<crypto::Bytes(std::size_t)>;

    Service(std::filesystem::path dir, Log log, Clock clock = {}, Random random = {});

    // One request as nginx forwards it. `client` is X-Airstrap-Client ("" when missing).
    Response handle(std::string_view method, std::string_view url, std::string_view query_node,
                    const std::string& client, std::string_view body);
    // One line of dnsmasq's output (log-dhcp and TFTP lines; others are ignored).
    void dnsmasq_line(std::string_view line);

    const ServiceConfig& config() const noexcept { return config_; }

  private:
    Response kickstart(const std::string& client, std::string_view name);
    Response nonce(const std::string& client, std::string_view node);
    Response installed(const std::string& client, std::string_view body);
    Response refuse(int status, const std::string& client, const std::string& reason);
    // Changes one node's state under the store's lock; logs `line` (which fn may set) when it
    // changed.
    Change change(const NodeEntry& node, const std::function<Change(NodeState&)>& fn,
                  const std::string& line);
    void once_a_minute(const std::string& key, const std::string& line);

    std::filesystem::path dir_;
    ServiceConfig config_;
    StateStore store_;
    Log log_;
    Clock clock_;
    Random random_;
    std::mutex mutex_;  // the HTTP thread and the dnsmasq reader
    struct Issued {
        std::string nonce;
        std::int64_t expires = 0;
    };
    std::map<std::string, std::deque<Issued>> nonces_;  // per node, at most a few
    std::map<std::string, std::int64_t> logged_;        // key → last logged (bounded)
};

// libmicrohttpd on an already listening socket (a unix socket made by the caller), one
// internal polling thread, at most 64 connections, 10 s idle timeout, request bodies of at
// most 4 KiB. Stops in the destructor.
class HttpServer {
  public:
    HttpServer(int listen_fd, Service& service);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

  private:
    struct Daemon;
    std::unique_ptr<Daemon> daemon_;
};

// The service's process: makes the unix socket at `socket_path` (0660, its folder decides who
// may connect), serves until `events_fd` (dnsmasq's lines, one per line) reaches its end or
// SIGTERM/SIGINT arrives. Returns the exit status.
int run_service(const std::filesystem::path& dir, const std::filesystem::path& socket_path,
                int events_fd, const Service::Log& log);

}  // namespace airstrap::provision
