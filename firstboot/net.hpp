// Sockets for enrolment: IPv4 addresses only (no name lookups: the daemon is static and runs
// before DNS may exist), deadlines on every read and write, frames of proto::frame().
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace airstrap::firstboot::net {

using Clock = std::chrono::steady_clock;

// One owned file descriptor.
class Socket {
  public:
    Socket() = default;
    explicit Socket(int fd) : fd_(fd) {}
    ~Socket();
    Socket(Socket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    Socket& operator=(Socket&& o) noexcept;
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    int fd() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }

  private:
    int fd_ = -1;
};

// A TCP connection to address:port from `source` (bound first when not empty, so the
// controller sees the node's management address). SystemError on failure or timeout.
Socket connect_tcp(const std::string& source, const std::string& address, std::uint16_t port,
                   std::chrono::milliseconds timeout);
// Listening on address:port (SO_REUSEADDR). SystemError naming the address if it cannot.
Socket listen_tcp(const std::string& address, std::uint16_t port);
// accept() that gives up after `timeout` (returns an empty Socket); sets `peer` to the
// dotted-quad source address.
Socket accept_tcp(const Socket& listener, std::chrono::milliseconds timeout, std::string& peer);

// Writes proto::frame(body); reads one frame body. Both throw (SystemError on I/O or
// deadline, proto::ProtocolError on a bad length) — a session is abandoned on any error.
void write_frame(const Socket& s, const std::string& body, Clock::time_point deadline);
std::string read_frame(const Socket& s, Clock::time_point deadline);

// UDP: a socket bound to address:port for beacons (the controller's management address, so
// that nothing arrives from the site's other networks), and sending one datagram.
Socket bind_udp(const std::string& address, std::uint16_t port);
Socket udp_sender();  // SO_BROADCAST set
void send_udp(const Socket& s, const std::string& address, std::uint16_t port,
              const std::string& data);
// Waits up to `timeout` for one datagram; false on timeout.
bool receive_udp(const Socket& s, std::chrono::milliseconds timeout, std::string& data,
                 std::string& peer);

}  // namespace airstrap::firstboot::net
