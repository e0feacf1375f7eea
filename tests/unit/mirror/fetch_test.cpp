// Fetcher against tests/tools/fault_server.py on 127.0.0.1: parallel downloads, reuse,
// retries with backoff, resume, checksum and size checks, redirects, memory fetches.
#include "repo-mirror/fetch.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/checksum.hpp"
#include "common/error.hpp"

extern char** environ;

namespace airstrap::mirror {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void spit(const fs::path& path, const std::string& data) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 gen(seed);
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(gen() & 0xFF);
    return s;
}

std::string sha256(const std::string& data) {
    return checksum_hex(ChecksumType::sha256, data);
}

fs::path part_of(const fs::path& dest) {
    fs::path p = dest;
    p += ".part";
    return p;
}

// A port on 127.0.0.1 that nothing listens on (bound, then closed).
int closed_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

// The interpreter behind "python3", resolved once: a version-manager shim in PATH can take
// half a second per start.
const std::string& python() {
    static const std::string path = [] {
        std::string out;
        if (FILE* p = ::popen("python3 -c 'import sys; print(sys.executable)' 2>/dev/null", "r")) {
            char buf[4096];
            while (std::fgets(buf, sizeof buf, p)) out += buf;
            ::pclose(p);
        }
        while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
        return out.empty() ? std::string("python3") : out;
    }();
    return path;
}

// tests/tools/fault_server.py as a child process: reads its port from the first stdout
// line; closing its stdin and SIGTERM stop it.
class FaultServer {
  public:
    FaultServer(const fs::path& root, const fs::path& log, const fs::path& err) {
        int in[2], out[2];
        if (::pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
        if (::pipe2(out, O_CLOEXEC) != 0) {
            ::close(in[0]);
            ::close(in[1]);
            throw std::runtime_error("pipe2 failed");
        }
        std::string script = std::string(AIRSTRAP_SOURCE_DIR) + "/tests/tools/fault_server.py";
        std::vector<std::string> args = {python(), script, root.string(), "--log", log.string()};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int rc = ::posix_spawnp(&pid_, args[0].c_str(), &fa, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        ::close(in[0]);
        ::close(out[1]);
        stdin_ = in[1];
        stdout_ = out[0];
        if (rc != 0) {
            pid_ = -1;
            throw std::runtime_error(std::string("cannot start python3: ") + std::strerror(rc));
        }
        port_ = read_port(err);
    }

    ~FaultServer() {
        if (stdin_ >= 0) ::close(stdin_);
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            auto deadline = Clock::now() + std::chrono::seconds(5);
            int status = 0;
            while (::waitpid(pid_, &status, WNOHANG) == 0) {
                if (Clock::now() > deadline) {
                    ADD_FAILURE() << "fault_server.py did not stop on SIGTERM";
                    ::kill(pid_, SIGKILL);
                    ::waitpid(pid_, &status, 0);
                    break;
                }
                ::usleep(10 * 1000);
            }
        }
        if (stdout_ >= 0) ::close(stdout_);
    }

    FaultServer(const FaultServer&) = delete;
    FaultServer& operator=(const FaultServer&) = delete;

    int port() const { return port_; }

  private:
    int read_port(const fs::path& err) {
        std::string line;
        auto deadline = Clock::now() + std::chrono::seconds(15);
        while (line.find('\n') == std::string::npos) {
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            pollfd p{stdout_, POLLIN, 0};
            if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
                throw std::runtime_error("fault_server.py printed no port: " + slurp(err));
            }
            char buf[64];
            ssize_t n = ::read(stdout_, buf, sizeof buf);
            if (n <= 0) throw std::runtime_error("fault_server.py exited: " + slurp(err));
            line.append(buf, static_cast<std::size_t>(n));
        }
        return std::stoi(line);
    }

    pid_t pid_ = -1;
    int stdin_ = -1;
    int stdout_ = -1;
    int port_ = 0;
};

class FetchTest : public ::testing::Test {
  protected:
    static constexpr int kSmallFiles = 200;

    // The served files are read-only: made once for the suite.
    static void SetUpTestSuite() {
        std::string pattern =
            (fs::path(::testing::TempDir()) / "airstrap-fetch-root-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
        root_ = pattern;
        big_ = random_bytes(1 << 20, 1);
        hello_ = "hello, mirror\n";
        spit(root_ / "big.bin", big_);
        spit(root_ / "hello.txt", hello_);
        spit(root_ / "four-k.bin", random_bytes(4096, 2));
        small_.clear();
        for (int i = 0; i < kSmallFiles; ++i) {
            small_.push_back(random_bytes(static_cast<std::size_t>(1 + (i * 97) % 5000),
                                          static_cast<unsigned>(100 + i)));
            spit(root_ / small_name(i), small_.back());
        }
    }

    static void TearDownTestSuite() {
        std::error_code ec;
        fs::remove_all(root_, ec);
    }

    // Each test: its own output folder and its own server (fault counters and log start
    // from zero).
    void SetUp() override {
        std::string pattern = (fs::path(::testing::TempDir()) / "airstrap-fetch-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
        dir_ = pattern;
        out_ = dir_ / "out";
        log_ = dir_ / "server.log";
        fs::create_directories(out_);
        server_ = std::make_unique<FaultServer>(root_, log_, dir_ / "server.err");
    }

    void TearDown() override {
        server_.reset();
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    static std::string small_name(int i) {
        char name[32];
        std::snprintf(name, sizeof name, "small/f%03d.bin", i);
        return name;
    }

    std::string url(const std::string& fault, const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(server_->port()) + "/" + fault + "/" + path;
    }

    FetchRequest request(const std::string& fault, const std::string& path,
                         const std::string& content) const {
        FetchRequest r;
        r.url = url(fault, path);
        r.dest = out_ / path;
        r.checksum = sha256(content);
        r.size = content.size();
        return r;
    }

    static FetchOptions fast() {
        FetchOptions o;
        o.jobs = 4;
        o.max_attempts = 3;
        o.backoff = std::chrono::milliseconds(10);
        o.connect_timeout = std::chrono::seconds(5);
        o.stall_timeout = std::chrono::seconds(10);
        return o;
    }

    FetchResult fetch_one(const FetchRequest& r, FetchOptions options = fast()) const {
        Fetcher fetcher(std::move(options));
        auto results = fetcher.fetch_all({r});
        EXPECT_EQ(results.size(), 1u);
        return results.at(0);
    }

    std::vector<std::string> log_lines() const {
        std::vector<std::string> lines;
        std::istringstream in(slurp(log_));
        for (std::string line; std::getline(in, line);) lines.push_back(line);
        return lines;
    }

    // Log lines containing every one of the needles.
    std::size_t log_count(std::initializer_list<std::string> needles) const {
        auto lines = log_lines();
        return static_cast<std::size_t>(std::count_if(lines.begin(), lines.end(), [&](auto& l) {
            return std::all_of(needles.begin(), needles.end(),
                               [&](auto& n) { return l.find(n) != std::string::npos; });
        }));
    }

    static inline fs::path root_;
    static inline std::string big_, hello_;
    static inline std::vector<std::string> small_;
    fs::path dir_, out_, log_;
    std::unique_ptr<FaultServer> server_;
};

TEST_F(FetchTest, ManySmallFilesInParallel) {
    std::vector<FetchRequest> reqs;
    std::uint64_t total = 0;
    for (int i = 0; i < kSmallFiles; ++i) {
        reqs.push_back(request("ok", small_name(i), small_[static_cast<std::size_t>(i)]));
        total += small_[static_cast<std::size_t>(i)].size();
    }
    FetchOptions options = fast();
    options.jobs = 8;
    std::vector<FetchProgress> seen;
    options.on_progress = [&](const FetchProgress& p) { seen.push_back(p); };
    Fetcher fetcher(options);
    auto results = fetcher.fetch_all(reqs);
    ASSERT_EQ(results.size(), reqs.size());
    for (int i = 0; i < kSmallFiles; ++i) {
        const auto& r = results[static_cast<std::size_t>(i)];
        SCOPED_TRACE(small_name(i));
        EXPECT_TRUE(r.ok) << r.error;
        EXPECT_FALSE(r.reused);
        EXPECT_EQ(r.url, reqs[static_cast<std::size_t>(i)].url);
        EXPECT_EQ(r.attempts, 1);
        EXPECT_EQ(r.bytes, small_[static_cast<std::size_t>(i)].size());
        EXPECT_EQ(slurp(reqs[static_cast<std::size_t>(i)].dest),
                  small_[static_cast<std::size_t>(i)]);
        EXPECT_FALSE(fs::exists(part_of(reqs[static_cast<std::size_t>(i)].dest)));
    }
    ASSERT_GE(seen.size(), static_cast<std::size_t>(kSmallFiles));
    for (std::size_t i = 1; i < seen.size(); ++i) {
        EXPECT_GE(seen[i].files_done, seen[i - 1].files_done);
        EXPECT_GE(seen[i].bytes_done, seen[i - 1].bytes_done);
    }
    EXPECT_EQ(seen.back().files_done, static_cast<std::size_t>(kSmallFiles));
    EXPECT_EQ(seen.back().files_total, static_cast<std::size_t>(kSmallFiles));
    EXPECT_EQ(seen.back().bytes_total, total);
    EXPECT_EQ(seen.back().bytes_done, total);
    EXPECT_EQ(log_count({"GET /ok/small/"}), static_cast<std::size_t>(kSmallFiles));
}

TEST_F(FetchTest, SecondRunReusesEverythingWithoutNetwork) {
    std::vector<FetchRequest> reqs;
    for (int i = 0; i < 50; ++i) {
        reqs.push_back(request("ok", small_name(i), small_[static_cast<std::size_t>(i)]));
    }
    reqs.push_back(request("ok", "big.bin", big_));
    Fetcher fetcher(fast());
    for (const auto& r : fetcher.fetch_all(reqs)) ASSERT_TRUE(r.ok) << r.error;
    std::size_t requests_before = log_lines().size();

    auto again = fetcher.fetch_all(reqs);
    for (const auto& r : again) {
        EXPECT_TRUE(r.ok) << r.error;
        EXPECT_TRUE(r.reused) << r.url;
        EXPECT_EQ(r.bytes, 0u);
        EXPECT_EQ(r.attempts, 0);
    }
    EXPECT_EQ(log_lines().size(), requests_before);
}

TEST_F(FetchTest, ChangedDestIsFetchedAgain) {
    auto req = request("ok", "hello.txt", hello_);
    spit(req.dest, "stale\n");
    auto r = fetch_one(req);
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_FALSE(r.reused);
    EXPECT_EQ(slurp(req.dest), hello_);
}

TEST_F(FetchTest, NotFoundIsPermanent) {
    auto req = request("404", "hello.txt", hello_);
    auto r = fetch_one(req);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.attempts, 1);
    EXPECT_NE(r.error.find(req.url), std::string::npos) << r.error;
    EXPECT_NE(r.error.find("HTTP 404 Not Found"), std::string::npos) << r.error;
    EXPECT_FALSE(fs::exists(req.dest));
    EXPECT_FALSE(fs::exists(part_of(req.dest)));
    EXPECT_EQ(log_count({"/404/hello.txt"}), 1u);
}

TEST_F(FetchTest, NotFoundDeletesAnOldPart) {
    auto req = request("404", "hello.txt", hello_);
    spit(part_of(req.dest), "hel");
    auto r = fetch_one(req);
    EXPECT_FALSE(r.ok);
    EXPECT_FALSE(fs::exists(part_of(req.dest)));
}

TEST_F(FetchTest, ServerErrorFailsAfterMaxAttempts) {
    auto req = request("500", "hello.txt", hello_);
    auto r = fetch_one(req);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.attempts, 3);
    EXPECT_EQ(r.error, req.url + ": HTTP 500 Internal Server Error after 3 attempts");
    EXPECT_EQ(log_count({"/500/hello.txt"}), 3u);
    EXPECT_FALSE(fs::exists(req.dest));
}

TEST_F(FetchTest, FlakyServerRecovers) {
    auto req = request("flaky2", "big.bin", big_);
    auto r = fetch_one(req);
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.attempts, 3);
    EXPECT_EQ(slurp(req.dest), big_);
}

TEST_F(FetchTest, TruncatedBodyIsResumedWithRange) {
    auto req = request("truncate", "big.bin", big_);
    auto r = fetch_one(req);
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.attempts, 2);
    EXPECT_LT(r.bytes, 2 * big_.size());
    EXPECT_EQ(slurp(req.dest), big_);
    EXPECT_FALSE(fs::exists(part_of(req.dest)));
    EXPECT_EQ(log_count({"/truncate/big.bin", "range=bytes=", "status=206"}), 1u);
}

TEST_F(FetchTest, ExistingPartIsResumed) {
    auto req = request("ok", "big.bin", big_);
    spit(part_of(req.dest), big_.substr(0, 1000));
    auto r = fetch_one(req);
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.attempts, 1);
    EXPECT_EQ(r.bytes, big_.size() - 1000);
    EXPECT_EQ(slurp(req.dest), big_);
    EXPECT_EQ(log_count({"/ok/big.bin", "range=bytes=1000-", "status=206"}), 1u);
}

TEST_F(FetchTest, FullRangeAnswerStartsOver) {
    auto req = request("norange", "big.bin", big_);
    spit(part_of(req.dest), big_.substr(0, 1000));
    auto r = fetch_one(req);
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.attempts, 1);
    EXPECT_EQ(r.bytes, big_.size());
    EXPECT_EQ(slurp(req.dest), big_);
    EXPECT_EQ(log_count({"/norange/big.bin", "range=bytes=1000-", "status=200"}), 1u);
}

TEST_F(FetchTest, BadPartIsDiscardedAfterChecksumMismatch) {
    auto req = request("ok", "big.bin", big_);
    spit(part_of(req.dest), std::string(1000, 'x'));
    auto r = fetch_one(req);
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.attempts, 2);
    EXPECT_EQ(slurp(req.dest), big_);
    EXPECT_EQ(log_count({"/ok/big.bin", "range=-"}), 1u);
}

TEST_F(FetchTest, CompletePartNeedsNoNetwork) {
    auto req = request("ok", "big.bin", big_);
    spit(part_of(req.dest), big_);
    auto r = fetch_one(req);
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.bytes, 0u);
    EXPECT_EQ(slurp(req.dest), big_);
    EXPECT_TRUE(log_lines().empty());
}

TEST_F(FetchTest, ConnectionResetIsRetried) {
    auto req = request("reset", "big.bin", big_);
    auto r = fetch_one(req);
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.attempts, 2);
    EXPECT_EQ(slurp(req.dest), big_);
    EXPECT_EQ(log_count({"/reset/big.bin", "status=reset"}), 1u);
}

TEST_F(FetchTest, CorruptFileFailsTheChecksum) {
    auto req = request("corrupt", "big.bin", big_);
    auto r = fetch_one(req);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.attempts, 3);
    EXPECT_EQ(r.error.rfind(
                  req.url + ": checksum mismatch (sha256 expected " + req.checksum + ", got ", 0),
              0u)
        << r.error;
    EXPECT_NE(r.error.find("after 3 attempts"), std::string::npos) << r.error;
    EXPECT_FALSE(fs::exists(req.dest));
    EXPECT_FALSE(fs::exists(part_of(req.dest)));
}

TEST_F(FetchTest, CorruptFileWithoutChecksumIsTakenAsIs) {
    auto req = request("corrupt", "big.bin", big_);
    req.checksum.clear();
    auto r = fetch_one(req);
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_NE(slurp(req.dest), big_);
}

TEST_F(FetchTest, ShorterFileThanRepodataSays) {
    auto req = request("ok", "hello.txt", hello_);
    req.size = 4096;
    auto r = fetch_one(req);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find(req.url + ": file is " + std::to_string(hello_.size()) +
                           " bytes, repodata says 4096"),
              std::string::npos)
        << r.error;
    EXPECT_FALSE(fs::exists(req.dest));
    EXPECT_FALSE(fs::exists(part_of(req.dest)));
}

TEST_F(FetchTest, LongerFileThanRepodataSaysIsCutShort) {
    auto req = request("ok", "big.bin", big_);
    req.size = 2048;
    auto r = fetch_one(req);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find(req.url + ": file is larger than the 2048 bytes repodata says"),
              std::string::npos)
        << r.error;
    EXPECT_LT(r.bytes, big_.size());  // aborted, not read to the end three times
    EXPECT_FALSE(fs::exists(req.dest));
    EXPECT_FALSE(fs::exists(part_of(req.dest)));
}

TEST_F(FetchTest, RedirectIsFollowed) {
    auto req = request("redirect", "big.bin", big_);
    auto r = fetch_one(req);
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.attempts, 1);
    EXPECT_EQ(slurp(req.dest), big_);
    EXPECT_EQ(log_count({"/redirect/big.bin", "status=302"}), 1u);
    EXPECT_EQ(log_count({"/ok/big.bin", "status=200"}), 1u);
}

TEST_F(FetchTest, FileUrl) {
    FetchRequest req;
    req.url = "file://" + (root_ / "big.bin").string();
    req.dest = out_ / "big.bin";
    req.checksum = sha256(big_);
    req.size = big_.size();
    auto r = fetch_one(req);
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(slurp(req.dest), big_);
}

TEST_F(FetchTest, MissingFileUrlIsPermanent) {
    FetchRequest req;
    req.url = "file://" + (root_ / "no-such.bin").string();
    req.dest = out_ / "no-such.bin";
    auto r = fetch_one(req);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.attempts, 1);
    EXPECT_EQ(r.error.rfind(req.url + ": cannot read", 0), 0u) << r.error;
    EXPECT_FALSE(fs::exists(req.dest));
    EXPECT_FALSE(fs::exists(part_of(req.dest)));
}

TEST_F(FetchTest, UnsupportedSchemeIsRejectedWithoutNetwork) {
    FetchRequest req;
    req.url = "ftp://127.0.0.1:" + std::to_string(server_->port()) + "/ok/hello.txt";
    req.dest = out_ / "hello.txt";
    auto r = fetch_one(req);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.attempts, 0);
    EXPECT_EQ(r.error, req.url + ": unsupported URL scheme 'ftp' (only http, https and file)");
    EXPECT_FALSE(fs::exists(req.dest));
    EXPECT_FALSE(fs::exists(part_of(req.dest)));

    Fetcher fetcher(fast());
    try {
        fetcher.fetch_to_memory(req.url, 1024);
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("unsupported URL scheme 'ftp'"), std::string::npos);
    }
    EXPECT_TRUE(log_lines().empty());
}

TEST_F(FetchTest, ConnectionRefusedIsRetriedThenFails) {
    FetchRequest req;
    req.url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/ok/hello.txt";
    req.dest = out_ / "hello.txt";
    auto r = fetch_one(req);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.attempts, 3);
    EXPECT_EQ(r.error.rfind(req.url + ": cannot connect", 0), 0u) << r.error;
    EXPECT_NE(r.error.find("after 3 attempts"), std::string::npos) << r.error;
    EXPECT_FALSE(fs::exists(part_of(req.dest)));
}

TEST_F(FetchTest, SlowLinkCompletes) {
    auto req = request("slow", "four-k.bin", slurp(root_ / "four-k.bin"));
    req.url += "?ms=300";
    FetchOptions options = fast();
    options.stall_timeout = std::chrono::seconds(3);
    auto start = Clock::now();
    auto r = fetch_one(req, options);
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.attempts, 1);
    EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(250));
    EXPECT_EQ(slurp(req.dest), slurp(root_ / "four-k.bin"));
}

TEST_F(FetchTest, StalledTransferIsAborted) {
    // 4 KiB over 20 s is 200 bytes/s, under the 1 KiB/s floor.
    auto req = request("slow", "four-k.bin", slurp(root_ / "four-k.bin"));
    req.url += "?ms=20000";
    FetchOptions options = fast();
    options.max_attempts = 1;
    options.stall_timeout = std::chrono::seconds(1);
    auto start = Clock::now();
    auto r = fetch_one(req, options);
    EXPECT_FALSE(r.ok);
    EXPECT_LT(Clock::now() - start, std::chrono::seconds(8));
    EXPECT_EQ(r.error.rfind(req.url + ": stalled", 0), 0u) << r.error;
    EXPECT_NE(r.error.find("after 1 attempt"), std::string::npos) << r.error;
    EXPECT_TRUE(fs::exists(part_of(req.dest)));  // kept for a later resume
}

TEST_F(FetchTest, BackoffDoesNotBlockOtherTransfers) {
    std::vector<FetchRequest> reqs{request("500", "hello.txt", hello_)};
    for (int i = 0; i < 40; ++i) {
        reqs.push_back(request("ok", small_name(i), small_[static_cast<std::size_t>(i)]));
    }
    FetchOptions options = fast();
    options.jobs = 2;
    options.max_attempts = 2;
    options.backoff = std::chrono::milliseconds(1000);
    Fetcher fetcher(options);
    auto start = Clock::now();
    auto results = fetcher.fetch_all(reqs);
    EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(1000));
    EXPECT_FALSE(results[0].ok);
    EXPECT_NE(results[0].error.find("after 2 attempts"), std::string::npos) << results[0].error;
    for (std::size_t i = 1; i < results.size(); ++i) EXPECT_TRUE(results[i].ok) << results[i].error;
    // Every other file was fetched while the failed one waited for its retry.
    auto lines = log_lines();
    std::size_t last_ok = 0, second_500 = 0, seen_500 = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].find("/ok/") != std::string::npos) last_ok = i;
        if (lines[i].find("/500/") != std::string::npos && ++seen_500 == 2) second_500 = i;
    }
    EXPECT_EQ(seen_500, 2u);
    EXPECT_GT(second_500, last_ok);
}

TEST_F(FetchTest, TransfersInFlightAreBoundedByJobs) {
    std::vector<FetchRequest> reqs;
    for (int i = 0; i < 12; ++i) {
        reqs.push_back(request("delay150", small_name(i), small_[static_cast<std::size_t>(i)]));
    }
    FetchOptions options = fast();
    options.jobs = 4;
    Fetcher fetcher(options);
    for (const auto& r : fetcher.fetch_all(reqs)) EXPECT_TRUE(r.ok) << r.error;
    int most = 0;
    for (const auto& line : log_lines()) {
        auto at = line.find("inflight=");
        ASSERT_NE(at, std::string::npos) << line;
        most = std::max(most, std::stoi(line.substr(at + 9)));
    }
    EXPECT_GE(most, 2);
    EXPECT_LE(most, 4);
}

TEST_F(FetchTest, SameDestTwiceIsFetchedOnce) {
    auto req = request("ok", "big.bin", big_);
    Fetcher fetcher(fast());
    auto results = fetcher.fetch_all({req, req});
    ASSERT_EQ(results.size(), 2u);
    EXPECT_TRUE(results[0].ok) << results[0].error;
    EXPECT_TRUE(results[1].ok) << results[1].error;
    EXPECT_TRUE(results[1].reused);
    EXPECT_EQ(slurp(req.dest), big_);
    EXPECT_EQ(log_count({"/ok/big.bin"}), 1u);
}

TEST_F(FetchTest, FetchToMemory) {
    Fetcher fetcher(fast());
    EXPECT_EQ(fetcher.fetch_to_memory(url("ok", "hello.txt"), 1024), hello_);
    EXPECT_EQ(fetcher.fetch_to_memory(url("flaky1", "big.bin"), big_.size()), big_);
    EXPECT_EQ(fetcher.fetch_to_memory(url("truncate", "hello.txt"), 1024), hello_);
    EXPECT_EQ(fetcher.fetch_to_memory(url("redirect", "hello.txt"), 1024), hello_);
}

TEST_F(FetchTest, FetchToMemoryOverTheCap) {
    Fetcher fetcher(fast());
    std::string u = url("ok", "big.bin");
    try {
        fetcher.fetch_to_memory(u, 100);
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), u + ": larger than 100 bytes");
    }
    EXPECT_EQ(log_count({"/ok/big.bin"}), 1u);  // permanent: not retried
}

TEST_F(FetchTest, FetchToMemoryNotFound) {
    Fetcher fetcher(fast());
    std::string u = url("404", "repodata/repomd.xml");
    try {
        fetcher.fetch_to_memory(u, 1024);
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), u + ": HTTP 404 Not Found");
    }
}

TEST(FetcherOptions, MisuseIsRejected) {
    FetchOptions options;
    options.jobs = 0;
    EXPECT_THROW(Fetcher{options}, Error);
    options.jobs = 1;
    options.max_attempts = 0;
    EXPECT_THROW(Fetcher{options}, Error);
}

}  // namespace
}  // namespace airstrap::mirror
