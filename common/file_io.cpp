#include "common/file_io.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <mutex>
#include <vector>

#include "common/error.hpp"

namespace airstrap {

namespace {

// Closes a descriptor on every way out of a scope.
struct FdCloser {
    int fd;
    ~FdCloser() {
        if (fd >= 0) ::close(fd);
    }
};

int open_for_reading(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) throw InputError(path.string() + ": no such file");
    if (fd < 0) throw SystemError("cannot open " + path.string(), errno);
    return fd;
}

void read_blocks(int fd, const std::filesystem::path& path,
                 const std::function<void(const char*, std::size_t)>& fn) {
    char buf[65536];
    while (true) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw SystemError("cannot read " + path.string(), errno);
        }
        if (n == 0) return;
        fn(buf, static_cast<std::size_t>(n));
    }
}

}  // namespace

void for_each_block(const std::filesystem::path& path,
                    const std::function<void(const char*, std::size_t)>& fn) {
    FdCloser fd{open_for_reading(path)};
    read_blocks(fd.fd, path, fn);
}

std::string read_file(const std::filesystem::path& path, std::size_t max_bytes) {
    FdCloser fd{open_for_reading(path)};
    struct stat st {};
    if (::fstat(fd.fd, &st) != 0) throw SystemError("cannot stat " + path.string(), errno);
    if (S_ISDIR(st.st_mode)) throw InputError(path.string() + ": is a directory, expected a file");
    auto too_large = [&] {
        return InputError(path.string() + ": file is larger than " +
                          std::to_string(max_bytes / 1024) + " KiB; is this the right file?");
    };
    if (S_ISREG(st.st_mode) && static_cast<std::size_t>(st.st_size) > max_bytes) throw too_large();
    std::string data;
    read_blocks(fd.fd, path, [&](const char* block, std::size_t size) {
        if (data.size() + size > max_bytes) throw too_large();
        data.append(block, size);
    });
    return data;
}

namespace {

// Temp files that a signal handler must remove. Fixed slots, so that the handler does
// nothing but unlink(2), which is async-signal-safe.
constexpr int kSlots = 64;
std::array<std::atomic<bool>, kSlots> slot_claimed{};
std::array<std::atomic<bool>, kSlots> slot_used{};
std::array<char[PATH_MAX], kSlots> slot_path{};
std::once_flag handlers_installed;

extern "C" void remove_temps_and_reraise(int sig) {
    for (int i = 0; i < kSlots; ++i) {
        if (slot_used[i].load()) ::unlink(slot_path[i]);
    }
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

int register_temp(const std::filesystem::path& p) {
    std::call_once(handlers_installed, [] {
        for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
            struct sigaction old {};
            ::sigaction(sig, nullptr, &old);
            // Ignored (nohup) stays ignored; a program's own handler (the first-boot daemon
            // stops cleanly on SIGTERM, its outputs removed by their destructors) stays too.
            if (old.sa_handler != SIG_DFL || (old.sa_flags & SA_SIGINFO)) continue;
            struct sigaction sa {};
            sa.sa_handler = remove_temps_and_reraise;
            sigemptyset(&sa.sa_mask);
            ::sigaction(sig, &sa, nullptr);
        }
    });
    if (p.native().size() >= PATH_MAX) return -1;
    for (int i = 0; i < kSlots; ++i) {
        bool expected = false;
        // Claim the slot, fill in the path, then publish it to the handler.
        if (slot_claimed[i].compare_exchange_strong(expected, true)) {
            std::strcpy(slot_path[i], p.c_str());
            slot_used[i].store(true);
            return i;
        }
    }
    return -1;  // more than kSlots open outputs: still removed on exceptions, not on signals
}

void unregister_temp(int slot) {
    if (slot < 0) return;
    slot_used[slot].store(false);
    slot_claimed[slot].store(false);
}

}  // namespace

AtomicFile::AtomicFile(std::filesystem::path target, mode_t mode, Durability durability)
    : target_(std::move(target)), mode_(mode), durability_(durability) {
    std::filesystem::path dir = target_.parent_path();
    if (dir.empty()) dir = ".";
    std::string pattern = (dir / ("." + target_.filename().string() + ".tmp-XXXXXX")).string();
    fd_ = ::mkostemp(pattern.data(), O_CLOEXEC);
    if (fd_ < 0) throw SystemError("cannot create a temp file in " + dir.string(), errno);
    temp_ = pattern;
    slot_ = register_temp(temp_);
    // Restrictive until commit: a secret must never be readable, even for a moment.
    ::fchmod(fd_, 0600);
}

AtomicFile::~AtomicFile() {
    discard();
}

void AtomicFile::discard() noexcept {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
    if (!temp_.empty()) {
        ::unlink(temp_.c_str());
        temp_.clear();
    }
    unregister_temp(slot_);
    slot_ = -1;
}

void AtomicFile::write(std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd_, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            throw SystemError("cannot write " + target_.string(), errno);
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

void AtomicFile::commit() {
    if (::fchmod(fd_, mode_) != 0) throw SystemError("cannot chmod " + temp_.string(), errno);
    if (durability_ == Durability::durable && ::fsync(fd_) != 0)
        throw SystemError("cannot sync " + target_.string(), errno);
    if (::close(fd_) != 0) {
        fd_ = -1;
        throw SystemError("cannot close " + target_.string(), errno);
    }
    fd_ = -1;
    if (::rename(temp_.c_str(), target_.c_str()) != 0) {
        throw SystemError("cannot rename into place " + target_.string(), errno);
    }
    temp_.clear();
    unregister_temp(slot_);
    slot_ = -1;
    if (durability_ == Durability::scratch) return;
    std::filesystem::path dir = target_.parent_path();
    if (dir.empty()) dir = ".";
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

void write_file_atomic(const std::filesystem::path& target, std::string_view data, mode_t mode,
                       Durability durability) {
    AtomicFile out(target, mode, durability);
    out.write(data);
    out.commit();
}

std::uint64_t copy_file_into(int out_fd, const std::filesystem::path& source,
                             const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
    int in = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) throw SystemError("cannot open " + source.string(), errno);
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{in};
    struct stat st {};
    if (::fstat(in, &st) != 0) throw SystemError("cannot stat " + source.string(), errno);
    const auto total = static_cast<std::uint64_t>(st.st_size);
    constexpr std::size_t chunk = std::size_t{64} << 20;  // progress every 64 MiB
    std::uint64_t done = 0;
    bool kernel_copy = true;
    std::vector<char> buf;
    while (done < total) {
        ssize_t n = -1;
        if (kernel_copy) {
            n = ::copy_file_range(
                in, nullptr, out_fd, nullptr,
                static_cast<std::size_t>(std::min<std::uint64_t>(chunk, total - done)), 0);
            if (n < 0 &&
                (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
                kernel_copy = false;  // e.g. across file systems on an old kernel
                continue;
            }
        } else {
            if (buf.empty()) buf.resize(std::size_t{1} << 20);
            n = ::read(in, buf.data(), buf.size());
            if (n > 0) {
                std::string_view data(buf.data(), static_cast<std::size_t>(n));
                while (!data.empty()) {
                    ssize_t w = ::write(out_fd, data.data(), data.size());
                    if (w < 0 && errno == EINTR) continue;
                    if (w < 0)
                        throw SystemError("cannot write a copy of " + source.string(), errno);
                    data.remove_prefix(static_cast<std::size_t>(w));
                }
            }
        }
        if (n < 0) {
            if (errno == EINTR) continue;
            throw SystemError("cannot copy " + source.string(), errno);
        }
        if (n == 0) throw Error(source.string() + " became shorter while it was copied");
        done += static_cast<std::uint64_t>(n);
        if (progress) progress(done, total);
    }
    return done;
}

void remove_stale_outputs(const std::filesystem::path& dir, const std::string& name) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        std::string f = e.path().filename().string();
        if (f.starts_with("." + name + ".staging-") || f.starts_with("." + name + ".tmp-")) {
            std::filesystem::remove_all(e.path(), ec);
        }
    }
}

TempDir::TempDir(const std::filesystem::path& parent, const std::string& prefix) {
    std::string pattern = (parent / ("." + prefix + "-XXXXXX")).string();
    if (!::mkdtemp(pattern.data()))
        throw SystemError("cannot create a folder in " + parent.string(), errno);
    path_ = pattern;
}

TempDir::~TempDir() {
    if (path_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

}  // namespace airstrap
