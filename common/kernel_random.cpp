#include "common/kernel_random.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <mutex>

#include "common/error.hpp"

namespace airstrap {

namespace {

// The raw system call: glibc's getrandom() is the same, but a static binary built against a
// newer glibc must not depend on a wrapper's own fallbacks (glibc has none for getrandom).
ssize_t system_getrandom(void* buf, std::size_t size) {
    return static_cast<ssize_t>(::syscall(SYS_getrandom, buf, size, 0U));
}

const KernelRandomSystem& process_system() {
    static const KernelRandomSystem sys{system_getrandom};
    return sys;
}
KernelRandomState process_state;
// One waiter at a time for the pool, so that the notice is printed once.
std::mutex pool_wait;

void wait_for_pool(const KernelRandomSystem& sys, KernelRandomState& state) {
    if (state.pool_ready) return;
    std::lock_guard lock(pool_wait);
    if (state.pool_ready) return;
    int fd = ::open(sys.random.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        throw SystemError("cannot open " + sys.random.string() +
                              " to wait for the kernel's random pool (is /dev mounted?)",
                          errno);
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    auto timeout = static_cast<int>(sys.notice_after.count());
    for (bool noticed = false;;) {
        pollfd p{fd, POLLIN, 0};
        int n = ::poll(&p, 1, noticed ? -1 : timeout);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw SystemError("cannot poll " + sys.random.string(), errno);
        if (n > 0 && (p.revents & POLLIN)) break;
        if (n > 0) {
            throw Error(sys.random.string() + " reported an error instead of becoming readable");
        }
        (sys.notices ? *sys.notices : std::cerr)
            << "airstrap: waiting for the kernel's random number pool to be initialised "
               "(this kernel has no getrandom; "
            << sys.random.string() << " is not readable yet)\n";
        noticed = true;
    }
    state.pool_ready = true;
}

void read_urandom(void* buf, std::size_t size, const KernelRandomSystem& sys) {
    int fd = ::open(sys.urandom.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        throw SystemError("cannot open " + sys.urandom.string() +
                              " (the kernel has no getrandom; is /dev mounted?)",
                          errno);
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    auto* out = static_cast<unsigned char*>(buf);
    while (size > 0) {
        ssize_t n = ::read(fd, out, size);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw SystemError("cannot read " + sys.urandom.string(), errno);
        if (n == 0) throw Error(sys.urandom.string() + " ended (it is not the kernel's device)");
        out += n;
        size -= static_cast<std::size_t>(n);
    }
}

}  // namespace

void kernel_random(void* buf, std::size_t size, const KernelRandomSystem& sys,
                   KernelRandomState& state) {
    if (state.source != static_cast<int>(KernelRandomSource::urandom)) {
        auto* out = static_cast<unsigned char*>(buf);
        std::size_t left = size;
        // One call even for size 0: it tells which source this kernel has.
        for (bool asked = false; !asked || left > 0;) {
            ssize_t n = sys.getrandom(out, left);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == ENOSYS) {
                state.source = static_cast<int>(KernelRandomSource::urandom);
                break;
            }
            if (n < 0) throw SystemError("getrandom failed", errno);
            state.source = static_cast<int>(KernelRandomSource::getrandom);
            asked = true;
            out += n;
            left -= static_cast<std::size_t>(n);
        }
        if (state.source == static_cast<int>(KernelRandomSource::getrandom)) return;
    }
    wait_for_pool(sys, state);
    if (size > 0) read_urandom(buf, size, sys);
}

void kernel_random(void* buf, std::size_t size) {
    kernel_random(buf, size, process_system(), process_state);
}

KernelRandomSource kernel_random_source() {
    if (process_state.source < 0) {
        unsigned char none = 0;
        kernel_random(&none, 0);
    }
    return static_cast<KernelRandomSource>(process_state.source.load());
}

const char* to_string(KernelRandomSource source) {
    return source == KernelRandomSource::getrandom ? "getrandom" : "/dev/urandom";
}

}  // namespace airstrap
