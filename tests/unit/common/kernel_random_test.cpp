#include "common/kernel_random.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/crypto.hpp"
#include "common/error.hpp"

namespace airstrap {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<unsigned char>;

struct TempDir {
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "kernel-random-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    fs::path path;
};

void put(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary) << text;
}

bool all_zero(const Bytes& b) {
    for (auto c : b)
        if (c != 0) return false;
    return true;
}

// A system whose getrandom answers ENOSYS (a 3.10 kernel), with files for the devices: a
// regular file is always readable, as /dev/random is once the pool is initialised.
struct Kernel310 {
    TempDir dir;
    KernelRandomSystem sys;
    int getrandom_calls = 0;
    std::ostringstream notices;
    explicit Kernel310(const std::string& urandom = "0123456789abcdef") {
        put(dir.path / "random", "");
        put(dir.path / "urandom", urandom);
        sys.getrandom = [this](void*, std::size_t) -> ssize_t {
            ++getrandom_calls;
            errno = ENOSYS;
            return -1;
        };
        sys.random = dir.path / "random";
        sys.urandom = dir.path / "urandom";
        sys.notices = &notices;
    }
};

TEST(KernelRandom, FillsFromTheKernel) {
    Bytes a(64), b(64);
    kernel_random(a.data(), a.size());
    kernel_random(b.data(), b.size());
    EXPECT_FALSE(all_zero(a));
    EXPECT_NE(a, b);
}

TEST(KernelRandom, SizesZeroOneAndLarge) {
    kernel_random(nullptr, 0);
    Bytes one(1);
    kernel_random(one.data(), 1);
    // Larger than getrandom returns in one call (33554431 bytes at most): the loop fills it.
    Bytes large(std::size_t{40} << 20, 0);
    kernel_random(large.data(), large.size());
    // Each of the last and first 64 KiB has some non-zero byte: all filled, not only a prefix.
    EXPECT_FALSE(all_zero(Bytes(large.begin(), large.begin() + 65536)));
    EXPECT_FALSE(all_zero(Bytes(large.end() - 65536, large.end())));
}

TEST(KernelRandom, ThisKernelHasGetrandom) {
    // The machines that build airstrap run Linux 3.17 or later.
    EXPECT_EQ(kernel_random_source(), KernelRandomSource::getrandom);
    EXPECT_STREQ(to_string(KernelRandomSource::urandom), "/dev/urandom");
}

TEST(KernelRandom, WithoutGetrandomReadsUrandomAndAsksOnce) {
    Kernel310 k;
    KernelRandomState state;
    Bytes out(10);
    kernel_random(out.data(), out.size(), k.sys, state);
    EXPECT_EQ(std::string(out.begin(), out.end()), "0123456789");
    EXPECT_EQ(state.source, static_cast<int>(KernelRandomSource::urandom));
    EXPECT_TRUE(state.pool_ready);
    kernel_random(out.data(), 4, k.sys, state);
    kernel_random(nullptr, 0, k.sys, state);
    EXPECT_EQ(k.getrandom_calls, 1);  // ENOSYS once: the kernel will not grow it
    EXPECT_EQ(k.notices.str(), "");   // no wait, no notice
}

TEST(KernelRandom, SizeZeroStillLearnsTheSource) {
    Kernel310 k;
    KernelRandomState state;
    kernel_random(nullptr, 0, k.sys, state);
    EXPECT_EQ(state.source, static_cast<int>(KernelRandomSource::urandom));
}

TEST(KernelRandom, RetriesEintrAndShortReads) {
    KernelRandomSystem sys;
    int calls = 0;
    sys.getrandom = [&calls](void* buf, std::size_t size) -> ssize_t {
        if (calls++ % 2 == 0) {
            errno = EINTR;
            return -1;
        }
        std::size_t n = std::min<std::size_t>(size, 3);
        std::memset(buf, 0xAB, n);
        return static_cast<ssize_t>(n);
    };
    KernelRandomState state;
    Bytes out(10, 0);
    kernel_random(out.data(), out.size(), sys, state);
    EXPECT_EQ(out, Bytes(10, 0xAB));
    EXPECT_EQ(calls, 8);  // 4 EINTR, then 3+3+3+1
    EXPECT_EQ(state.source, static_cast<int>(KernelRandomSource::getrandom));
}

TEST(KernelRandom, OtherErrorsKeepTheirCause) {
    KernelRandomSystem sys;
    sys.getrandom = [](void*, std::size_t) -> ssize_t {
        errno = EFAULT;
        return -1;
    };
    KernelRandomState state;
    Bytes out(4);
    try {
        kernel_random(out.data(), out.size(), sys, state);
        FAIL() << "no error";
    } catch (const SystemError& e) {
        EXPECT_EQ(e.errnum(), EFAULT);
        EXPECT_NE(std::string(e.what()).find("getrandom"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("Bad address"), std::string::npos) << e.what();
    }
}

TEST(KernelRandom, MissingUrandomNamesThePath) {
    Kernel310 k;
    fs::remove(k.sys.urandom);
    KernelRandomState state;
    Bytes out(4);
    try {
        kernel_random(out.data(), out.size(), k.sys, state);
        FAIL() << "no error";
    } catch (const SystemError& e) {
        EXPECT_EQ(e.errnum(), ENOENT);
        EXPECT_NE(std::string(e.what()).find(k.sys.urandom.string()), std::string::npos)
            << e.what();
    }
}

TEST(KernelRandom, UrandomThatEndsIsAnError) {
    Kernel310 k("abc");
    KernelRandomState state;
    Bytes out(8);
    EXPECT_THROW(kernel_random(out.data(), out.size(), k.sys, state), Error);
}

TEST(KernelRandom, WaitsForThePoolWithANotice) {
    Kernel310 k;
    // A FIFO without a writer yet is not readable: the pool "initialises" when one byte arrives.
    fs::remove(k.sys.random);
    ASSERT_EQ(::mkfifo(k.sys.random.c_str(), 0600), 0);
    k.sys.notice_after = std::chrono::milliseconds(50);
    std::thread pool([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        int fd = ::open(k.sys.random.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            (void)!::write(fd, "x", 1);
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            ::close(fd);
        }
    });
    KernelRandomState state;
    Bytes out(4);
    auto start = std::chrono::steady_clock::now();
    kernel_random(out.data(), out.size(), k.sys, state);
    auto waited = std::chrono::steady_clock::now() - start;
    pool.join();
    EXPECT_EQ(std::string(out.begin(), out.end()), "0123");
    EXPECT_GE(waited, std::chrono::milliseconds(250));
    EXPECT_NE(k.notices.str().find("waiting for the kernel's random number pool"),
              std::string::npos)
        << k.notices.str();
    EXPECT_TRUE(state.pool_ready);
}

#if defined(__x86_64__)
// getrandom answers ENOSYS in this process from now on, as on CentOS 7's 3.10 kernel.
void refuse_getrandom() {
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getrandom, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
        std::perror("seccomp");
        std::exit(3);
    }
    unsigned char b;
    if (::syscall(SYS_getrandom, &b, 1, 0) != -1 || errno != ENOSYS) std::exit(4);
}

// Each in a fresh process ("threadsafe" death tests re-run the binary): OpenSSL's generator
// must not have been set up by an earlier test.
TEST(KernelRandomDeathTest, WithoutGetrandomTheProcessSourceIsUrandom) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            refuse_getrandom();
            Bytes out(32);
            kernel_random(out.data(), out.size());
            std::exit(kernel_random_source() == KernelRandomSource::urandom && !all_zero(out) ? 0
                                                                                              : 1);
        },
        testing::ExitedWithCode(0), "");
}

// The control: Debian's OpenSSL 3.0 does not seed without getrandom on this (≥ 4.8) kernel,
// so the next test proves seed_from_kernel, not OpenSSL's own fallback.
TEST(KernelRandomDeathTest, OpenSslAloneCannotSeedWithoutGetrandom) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            refuse_getrandom();
            unsigned char b[16];
            std::exit(RAND_bytes(b, sizeof b) == 1 ? 0 : 1);
        },
        testing::ExitedWithCode(1), "");
}

TEST(KernelRandomDeathTest, SeedFromKernelMakesOpenSslWorkWithoutGetrandom) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            refuse_getrandom();
            crypto::seed_from_kernel();
            crypto::seed_from_kernel();  // a second call does nothing
            auto a = crypto::drbg_bytes(64);
            auto b = crypto::drbg_bytes(64);
            auto key = crypto::random_bytes(32);
            auto sealed = crypto::seal(key, crypto::random_bytes(12), "text", "ctx");
            // key generation draws from OpenSSL's generator too (the daemon has none today)
            EVP_PKEY* ed25519 = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
            bool ok = a != b && crypto::kernel_seed_bytes() > 0 && ed25519 != nullptr &&
                      crypto::unseal(key, sealed, "ctx") == "text";
            EVP_PKEY_free(ed25519);
            std::exit(ok ? 0 : 1);
        },
        testing::ExitedWithCode(0), "");
}

TEST(KernelRandomDeathTest, SeedFromKernelRefusesToComeTooLate) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            unsigned char b[16];
            if (RAND_bytes(b, sizeof b) != 1) std::exit(2);
            try {
                crypto::seed_from_kernel();
            } catch (const Error& e) {
                std::fprintf(stderr, "%s\n", e.what());
                std::exit(1);
            }
            std::exit(0);
        },
        testing::ExitedWithCode(1), "call seed_from_kernel before anything uses it");
}
#endif

}  // namespace
}  // namespace airstrap
