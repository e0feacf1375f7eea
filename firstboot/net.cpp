#include "firstboot/net.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "common/error.hpp"
#include "firstboot/protocol.hpp"

namespace airstrap::firstboot::net {

namespace {

sockaddr_in ipv4(const std::string& address, std::uint16_t port) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    if (inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1)
        throw InputError("'" + address + "' is not an IPv4 address");
    return sa;
}

std::string where(const std::string& address, std::uint16_t port) {
    return address + ":" + std::to_string(port);
}

int remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return left.count() <= 0 ? 0 : static_cast<int>(left.count());
}

// Waits for `events` on fd until the deadline; SystemError(ETIMEDOUT) when it passes.
void wait_for(int fd, short events, Clock::time_point deadline, const char* what) {
    for (;;) {
        pollfd p{fd, events, 0};
        int ms = remaining_ms(deadline);
        int rc = ::poll(&p, 1, ms);
        if (rc > 0) return;
        if (rc == 0) throw SystemError(std::string("timed out ") + what, ETIMEDOUT);
        if (errno != EINTR) throw SystemError(std::string("poll while ") + what, errno);
    }
}

Socket new_socket(int type) {
    int fd = ::socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) throw SystemError("cannot create a socket", errno);
    return Socket(fd);
}

}  // namespace

Socket::~Socket() {
    if (fd_ >= 0) ::close(fd_);
}

Socket& Socket::operator=(Socket&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = o.fd_;
        o.fd_ = -1;
    }
    return *this;
}

Socket connect_tcp(const std::string& source, const std::string& address, std::uint16_t port,
                   std::chrono::milliseconds timeout) {
    Socket s = new_socket(SOCK_STREAM);
    int one = 1;
    ::setsockopt(s.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (!source.empty()) {
        sockaddr_in local = ipv4(source, 0);
        if (::bind(s.fd(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0)
            throw SystemError("cannot use source address " + source, errno);
    }
    sockaddr_in sa = ipv4(address, port);
    if (::connect(s.fd(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        if (errno != EINPROGRESS)
            throw SystemError("cannot connect to " + where(address, port), errno);
        wait_for(s.fd(), POLLOUT, Clock::now() + timeout,
                 ("connecting to " + where(address, port)).c_str());
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(s.fd(), SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) throw SystemError("cannot connect to " + where(address, port), err);
    }
    return s;
}

Socket listen_tcp(const std::string& address, std::uint16_t port) {
    Socket s = new_socket(SOCK_STREAM);
    int one = 1;
    ::setsockopt(s.fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa = ipv4(address, port);
    if (::bind(s.fd(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
        throw SystemError("cannot listen on " + where(address, port), errno);
    if (::listen(s.fd(), 256) != 0)
        throw SystemError("cannot listen on " + where(address, port), errno);
    return s;
}

Socket accept_tcp(const Socket& listener, std::chrono::milliseconds timeout, std::string& peer) {
    pollfd p{listener.fd(), POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (rc <= 0) return Socket();
    sockaddr_in sa{};
    socklen_t len = sizeof sa;
    int fd = ::accept4(listener.fd(), reinterpret_cast<sockaddr*>(&sa), &len,
                       SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return Socket();
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char buf[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &sa.sin_addr, buf, sizeof buf);
    peer = buf;
    return Socket(fd);
}

void write_frame(const Socket& s, const std::string& body, Clock::time_point deadline) {
    std::string data = proto::frame(body);
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::send(s.fd(), data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (n > 0) {
            done += static_cast<std::size_t>(n);
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            wait_for(s.fd(), POLLOUT, deadline, "sending");
        } else {
            throw SystemError("sending", errno);
        }
    }
}

namespace {

void read_exact(const Socket& s, char* buf, std::size_t size, Clock::time_point deadline) {
    std::size_t done = 0;
    while (done < size) {
        ssize_t n = ::recv(s.fd(), buf + done, size - done, 0);
        if (n > 0) {
            done += static_cast<std::size_t>(n);
        } else if (n == 0) {
            throw SystemError("the other end closed the connection", ECONNRESET);
        } else if (errno == EAGAIN || errno == EINTR) {
            wait_for(s.fd(), POLLIN, deadline, "receiving");
        } else {
            throw SystemError("receiving", errno);
        }
    }
}

}  // namespace

std::string read_frame(const Socket& s, Clock::time_point deadline) {
    unsigned char header[4];
    read_exact(s, reinterpret_cast<char*>(header), 4, deadline);
    std::string body(proto::frame_length(header), '\0');
    read_exact(s, body.data(), body.size(), deadline);
    return body;
}

Socket bind_udp(const std::string& address, std::uint16_t port) {
    Socket s = new_socket(SOCK_DGRAM);
    int one = 1;
    ::setsockopt(s.fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa = ipv4(address, port);
    if (::bind(s.fd(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
        throw SystemError("cannot receive beacons on " + where(address, port) + " (UDP)", errno);
    return s;
}

Socket udp_sender() {
    Socket s = new_socket(SOCK_DGRAM);
    int one = 1;
    ::setsockopt(s.fd(), SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
    return s;
}

void send_udp(const Socket& s, const std::string& address, std::uint16_t port,
              const std::string& data) {
    sockaddr_in sa = ipv4(address, port);
    if (::sendto(s.fd(), data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa) <
        0)
        throw SystemError("cannot send a beacon to " + where(address, port), errno);
}

bool receive_udp(const Socket& s, std::chrono::milliseconds timeout, std::string& data,
                 std::string& peer) {
    pollfd p{s.fd(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
    char buf[2048];
    sockaddr_in sa{};
    socklen_t len = sizeof sa;
    ssize_t n = ::recvfrom(s.fd(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&sa), &len);
    if (n <= 0) return false;
    data.assign(buf, static_cast<std::size_t>(n));
    char addr[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &sa.sin_addr, addr, sizeof addr);
    peer = addr;
    return true;
}

}  // namespace airstrap::firstboot::net
