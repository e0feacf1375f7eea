// Random bytes straight from the kernel's CSPRNG, on every kernel airstrap's nodes run:
// getrandom(2) where it exists (Linux 3.17 on), and on CentOS 7's 3.10, where it answers
// ENOSYS, /dev/urandom once the pool is initialised (/dev/random readable, as OpenSSL waits
// on old kernels). Includes only the standard library and POSIX.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <ostream>

namespace airstrap {

enum class KernelRandomSource { getrandom, urandom };

// Fills buf[0, size) (size 0 is fine). getrandom is retried on EINTR and short reads; on
// ENOSYS the process waits once for the pool (a notice on stderr after 5 s) and reads
// /dev/urandom from then on. Throws SystemError with the cause (errno's text) otherwise.
void kernel_random(void* buf, std::size_t size);

// The source kernel_random uses in this process (it asks the kernel on the first call).
KernelRandomSource kernel_random_source();
const char* to_string(KernelRandomSource source);

// What kernel_random calls, replaceable by a test: the fallback taken on a kernel without
// getrandom, from any kernel.
struct KernelRandomSystem {
    // getrandom(2): bytes written, or -1 with errno set.
    std::function<ssize_t(void*, std::size_t)> getrandom;
    std::filesystem::path random = "/dev/random";    // polled for POLLIN (pool initialised)
    std::filesystem::path urandom = "/dev/urandom";  // read once it is
    std::chrono::milliseconds notice_after{5000};    // then a notice that it still waits
    std::ostream* notices = nullptr;                 // where (nullptr: std::cerr)
};
// The process's state: which source, and whether the pool was seen initialised.
struct KernelRandomState {
    std::atomic<int> source{-1};  // -1 unknown, else a KernelRandomSource
    std::atomic<bool> pool_ready{false};
};
void kernel_random(void* buf, std::size_t size, const KernelRandomSystem& sys,
                   KernelRandomState& state);

}  // namespace airstrap
