// Admission control and the accounting of unauthenticated traffic: the Guard alone, then the
// enrolment server on loopback with hostile and idle clients (127.0.0.0/24 is the management
// network, 127.0.0.1 the controller, 127.0.0.2 and .3 the nodes; 127.0.1.x is outside it:
// Linux answers the whole 127/8 on lo).
#include "firstboot/guard.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "firstboot/enrol.hpp"
#include "node/credentials.hpp"

namespace airstrap::firstboot {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::uint16_t test_port() {
    return static_cast<std::uint16_t>(30000 + (::getpid() * 11 + 4111) % 20000);
}

node::Site loop_site(std::uint16_t port) {
    node::Site site;
    site.site = {"loop", "test", "el7", "UTC"};
    site.networks["management"] = {"management", "127.0.0.0/24", std::nullopt, {}, 1500};
    auto add = [&](const char* name, node::Role role, const std::string& addr) {
        site.nodes.push_back({name, role, false, {{"lo", "", "management", addr, ""}}});
    };
    add("controller", node::Role::controller, "127.0.0.1");
    add("compute1", node::Role::compute, "127.0.0.2");
    add("compute2", node::Role::compute, "127.0.0.3");
    site.security = {"disabled", false, false};
    site.firstboot = {port, 60, 60, 3600,
                      crypto::to_hex(node::controller_public_key(crypto::Bytes(32, 9)))};
    site.openstack.deployer = "packstack";
    site.openstack.release = "queens";
    site.openstack.l2_agent = "openvswitch";
    return node::parse_site_json(node::site_json_text(site));
}

std::filesystem::path temp_dir(const char* what) {
    auto dir = std::filesystem::temp_directory_path() /
               (std::string("airstrap-guard-test-") + what + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

std::vector<std::string> lines_of(const std::filesystem::path& file) {
    std::vector<std::string> out;
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) return out;
    std::string text = read_file(file, 16 << 20);
    std::size_t at = 0;
    while (at < text.size()) {
        auto nl = text.find('\n', at);
        out.push_back(text.substr(at, nl - at));
        if (nl == std::string::npos) break;
        at = nl + 1;
    }
    return out;
}

const UnauthenticatedSource* find(const std::vector<UnauthenticatedSource>& all,
                                  const std::string& address) {
    for (const auto& s : all)
        if (s.address == address) return &s;
    return nullptr;
}

long long count_of(const UnauthenticatedSource& s, const std::string& reason) {
    for (const auto& [r, n] : s.counts)
        if (r == reason) return n;
    return 0;
}

// ---------------------------------------------------------------------- the Guard alone

class GuardTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = temp_dir("alone");
        log_ = std::make_unique<Log>(dir_ / "controller.log", "controller");
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::vector<std::string> log_lines() const { return lines_of(dir_ / "controller.log"); }

    node::Site site_ = loop_site(7447);
    std::filesystem::path dir_;
    std::unique_ptr<Log> log_;
};

TEST_F(GuardTest, AdmitsTheManagementNetworkOnlyAndAFewSessionsPerAddress) {
    Guard guard(site_, *log_);
    EXPECT_TRUE(guard.in_network("127.0.0.200"));
    EXPECT_FALSE(guard.in_network("127.0.1.9"));
    EXPECT_FALSE(guard.in_network("not an address"));

    EXPECT_FALSE(guard.admit("127.0.1.9"));
    std::vector<Guard::Ticket> held;
    for (int i = 0; i < 4; ++i) {
        held.push_back(guard.admit("127.0.0.99"));
        EXPECT_TRUE(held.back()) << i;
    }
    EXPECT_FALSE(guard.admit("127.0.0.99"));
    EXPECT_TRUE(guard.admit("127.0.0.98"));  // another address has its own four
    EXPECT_EQ(guard.sessions(), 4);          // the temporary ticket was given back
    held.pop_back();
    EXPECT_EQ(guard.sessions(), 3);
    held.push_back(guard.admit("127.0.0.99"));
    EXPECT_TRUE(held.back());

    auto all = guard.sources();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].total, 1);
    const auto* outside = find(all, "127.0.1.9");
    ASSERT_TRUE(outside);
    EXPECT_EQ(outside->last_reason, "outside the management network");
    const auto* busy = find(all, "127.0.0.99");
    ASSERT_TRUE(busy);
    EXPECT_EQ(busy->last_reason, "more than 4 sessions at once");
}

TEST_F(GuardTest, StrangersShareACapThatTheNodesAddressesDoNotCount) {
    GuardLimits limits;
    limits.strangers = 6;
    Guard guard(site_, *log_, limits);
    std::vector<Guard::Ticket> held;
    for (int i = 0; i < 6; ++i) held.push_back(guard.admit("127.0.0." + std::to_string(100 + i)));
    for (const auto& t : held) EXPECT_TRUE(t);
    EXPECT_FALSE(guard.admit("127.0.0.120"));
    // The site's nodes still get in, up to their own four each.
    for (int i = 0; i < 4; ++i) {
        held.push_back(guard.admit("127.0.0.2"));
        EXPECT_TRUE(held.back());
    }
    EXPECT_FALSE(guard.admit("127.0.0.2"));
    EXPECT_EQ(guard.sessions(), 10);
    held.erase(held.begin());  // a stranger leaves: one more may come
    EXPECT_TRUE(guard.admit("127.0.0.120"));
}

TEST_F(GuardTest, FailuresAreOneSummaryLinePerAddressPerPeriod) {
    GuardLimits limits;
    limits.summary_every = 400ms;
    Guard guard(site_, *log_, limits);
    guard.failed("127.0.0.99", "", "first frame not sent in 2 s");
    auto lines = log_lines();
    ASSERT_EQ(lines.size(), 1u);  // the first failure of a quiet address: at once
    EXPECT_NE(lines[0].find("controller: warning: 127.0.0.99: 1 session failed in the last "
                            "minute (first frame not sent in 2 s: 1)"),
              std::string::npos)
        << lines[0];

    for (int i = 0; i < 300; ++i) guard.failed("127.0.0.99", "", "first frame not sent in 2 s");
    for (int i = 0; i < 12; ++i) guard.failed("127.0.0.99", "compute1", "proof does not verify");
    guard.failed_beacon("127.0.0.99", "compute2\nforged line", "beacon does not verify");
    for (int i = 0; i < 5; ++i) guard.failed("127.0.0.98", "", "malformed frame");
    guard.tick();
    lines = log_lines();
    ASSERT_EQ(lines.size(), 2u);  // .98's first; .99's rest wait for the period
    EXPECT_NE(lines[1].find("127.0.0.98: 1 session failed in the last minute (malformed frame: 1)"),
              std::string::npos)
        << lines[1];

    std::this_thread::sleep_for(450ms);
    guard.tick();
    guard.tick();
    lines = log_lines();
    ASSERT_EQ(lines.size(), 4u);
    std::sort(lines.begin() + 2, lines.end());
    EXPECT_NE(lines[2].find("127.0.0.98: 4 sessions failed in the last minute (malformed "
                            "frame: 4)"),
              std::string::npos)
        << lines[2];
    EXPECT_NE(lines[3].find("127.0.0.99: 312 sessions and 1 beacon failed in the last minute "
                            "(first frame not sent in 2 s: 300, proof does not verify: 12, "
                            "beacon does not verify: 1; claimed: compute1, compute2\\nforged "
                            "line)"),
              std::string::npos)
        << lines[3];

    // Nothing new: nothing logged, however often tick runs.
    std::this_thread::sleep_for(450ms);
    guard.tick();
    EXPECT_EQ(log_lines().size(), 4u);

    // The totals since the start, per reason, most first.
    auto all = guard.sources();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].address, "127.0.0.99");
    EXPECT_EQ(all[0].total, 314);
    EXPECT_EQ(all[0].counts[0],
              (std::pair<std::string, long long>{"first frame not sent in 2 s", 301}));
    EXPECT_EQ(count_of(all[0], "proof does not verify"), 12);
    EXPECT_EQ(all[0].names, (std::vector<std::string>{"compute1", "compute2\nforged line"}));
    EXPECT_EQ(all[0].last_reason, "beacon does not verify");
    EXPECT_GT(all[0].last_seen, 0);
}

TEST_F(GuardTest, MemoryIsBoundedHoweverManyAddressesAndNames) {
    GuardLimits limits;
    limits.sources = 8;
    limits.summary_every = 1h;
    Guard guard(site_, *log_, limits);
    for (int a = 0; a < 200; ++a) {
        for (int n = 0; n < 20; ++n) {
            guard.failed("127.0.0." + std::to_string(a),
                         "name-" + std::to_string(n) + std::string(200, 'x'),
                         "reason " + std::to_string(n));
        }
    }
    auto all = guard.sources();
    ASSERT_EQ(all.size(), 9u);  // eight addresses and the rest together
    const auto* rest = find(all, other_addresses);
    ASSERT_TRUE(rest);
    EXPECT_EQ(rest->total, 192 * 20);
    for (const auto& s : all) {
        EXPECT_LE(s.names.size(), 8u);
        EXPECT_LE(s.counts.size(), 17u);  // 16 reasons and "other"
        for (const auto& n : s.names) EXPECT_LE(n.size(), 64u);
    }
    const auto* first = find(all, "127.0.0.0");
    ASSERT_TRUE(first);
    EXPECT_EQ(count_of(*first, "other"), 4);
    // One line per tracked address and one for the rest: the log does not grow per address.
    EXPECT_EQ(log_lines().size(), 9u);
}

TEST_F(GuardTest, PublishesTheCountsPrivatelyAndAtMostEveryPeriod) {
    GuardLimits limits;
    limits.publish_every = 500ms;
    Guard guard(site_, *log_, limits);
    auto file = dir_ / "run/airstrap/unauthenticated.json";
    write_file_atomic(dir_ / "stale", "{}", 0600);
    guard.publish_to(file);  // at once: a previous daemon's counts are gone
    EXPECT_EQ(std::filesystem::status(file).permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    EXPECT_EQ(
        std::filesystem::status(file.parent_path()).permissions() & std::filesystem::perms::all,
        std::filesystem::perms::owner_all);
    EXPECT_EQ(json::parse(read_file(file, 1 << 20)),
              (json{{"format", 1}, {"sources", json::array()}}));

    guard.failed("127.0.0.99", "compute1", "proof does not verify");
    guard.tick();  // too soon
    EXPECT_TRUE(unauthenticated_from_json(json::parse(read_file(file, 1 << 20))).empty());
    std::this_thread::sleep_for(550ms);
    guard.tick();
    auto published = unauthenticated_from_json(json::parse(read_file(file, 1 << 20)));
    EXPECT_EQ(published, guard.sources());
    ASSERT_EQ(published.size(), 1u);
    EXPECT_EQ(published[0].names, std::vector<std::string>{"compute1"});
    for (const auto& e : std::filesystem::directory_iterator(file.parent_path()))
        EXPECT_EQ(e.path().filename(), "unauthenticated.json") << "left behind";

    EXPECT_THROW(unauthenticated_from_json(json{{"format", 2}, {"sources", json::array()}}),
                 InputError);
    EXPECT_THROW(unauthenticated_from_json(json::parse(
                     R"({"format":1,"sources":[{"address":"127.0.0.9","names":[],"total":"x"}]})")),
                 InputError);
}

// ------------------------------------------------------------- the server, on loopback

node::Identity controller_identity(std::uint16_t port) {
    node::Identity id;
    id.site = loop_site(port);
    id.node = "controller";
    crypto::Bytes secret(32, 9);
    id.node_key = node::node_key(secret, "controller");
    id.site_secret = secret;
    return id;
}

// True when the server closed the connection within `wait` (EOF or reset).
bool closed_within(const net::Socket& s, std::chrono::milliseconds wait) {
    pollfd p{s.fd(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return false;
    char c;
    return ::recv(s.fd(), &c, 1, MSG_PEEK) <= 0;
}

class GuardedServer : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = temp_dir("server");
        port_ = test_port();
        controller_ = controller_identity(port_);
        state_ = std::make_unique<SiteState>(dir_ / "enrolled.json", dir_ / "rejoin");
        log_ = std::make_unique<Log>(dir_ / "controller.log", "controller");
        server_ = std::make_unique<EnrolServer>(controller_, *state_, std::vector<std::string>{},
                                                "", *log_, traffic_);
        server_->start();
    }
    void TearDown() override {
        server_->stop();
        std::filesystem::remove_all(dir_);
    }
    net::Socket connect_from(const std::string& source) {
        return net::connect_tcp(source, "127.0.0.1", port_, 2s);
    }
    // Waits until the guard counted `n` attempts of `reason` from `address`.
    bool counted(const std::string& address, const std::string& reason, long long n,
                 std::chrono::milliseconds wait = 3s) {
        auto until = std::chrono::steady_clock::now() + wait;
        do {
            auto all = server_->guard().sources();
            const auto* s = find(all, address);
            if (s && count_of(*s, reason) >= n) return true;
            std::this_thread::sleep_for(20ms);
        } while (std::chrono::steady_clock::now() < until);
        return false;
    }

    std::filesystem::path dir_;
    std::uint16_t port_ = 0;
    node::Identity controller_;
    std::unique_ptr<SiteState> state_;
    std::unique_ptr<Log> log_;
    Traffic traffic_;
    std::unique_ptr<EnrolServer> server_;
};

TEST_F(GuardedServer, SessionsFromOutsideTheManagementNetworkAreClosedBeforeAnyRead) {
    net::Socket s = connect_from("127.0.1.9");
    // Even a whole hello waiting in the buffer is never read.
    net::write_frame(s, R"({"type":"hello"})", net::Clock::now() + 1s);
    EXPECT_TRUE(closed_within(s, 1s));
    EXPECT_TRUE(counted("127.0.1.9", "outside the management network", 1));
    EXPECT_EQ(traffic_.sessions, 0);  // serve() never ran
    EXPECT_FALSE(std::filesystem::exists(dir_ / "enrolled.json"));
}

TEST_F(GuardedServer, AFewSessionsPerAddressTheRestClosedAtOnce) {
    std::vector<net::Socket> idle;
    for (int i = 0; i < 6; ++i) idle.push_back(connect_from("127.0.0.99"));
    ASSERT_TRUE(counted("127.0.0.99", "more than 4 sessions at once", 2));
    int closed = 0;
    for (const auto& s : idle) closed += closed_within(s, 100ms) ? 1 : 0;
    EXPECT_EQ(closed, 2);
    EXPECT_EQ(server_->guard().sessions(), 4);
    // Another address is not held up by this one.
    net::Socket other = connect_from("127.0.0.98");
    EXPECT_FALSE(closed_within(other, 300ms));
    EXPECT_EQ(server_->guard().sessions(), 5);
}

TEST_F(GuardedServer, TheFirstFrameMustComeWithinTwoSeconds) {
    auto start = std::chrono::steady_clock::now();
    net::Socket idle = connect_from("127.0.0.99");
    net::Socket slow = connect_from("127.0.0.98");
    // Half a frame header, then nothing.
    ASSERT_EQ(::send(slow.fd(), "\0\0", 2, MSG_NOSIGNAL), 2);
    EXPECT_FALSE(closed_within(idle, 1500ms));
    EXPECT_TRUE(closed_within(idle, 1500ms));
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_GE(took, 1900ms);
    EXPECT_LT(took, 3s);
    EXPECT_TRUE(closed_within(slow, 500ms));
    EXPECT_TRUE(counted("127.0.0.99", "first frame not sent in 2 s", 1));
    EXPECT_TRUE(counted("127.0.0.98", "first frame not sent in 2 s", 1));
    // The server closes the socket before it releases the session's place.
    auto until = std::chrono::steady_clock::now() + 2s;
    while (server_->guard().sessions() > 0 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(10ms);
    EXPECT_EQ(server_->guard().sessions(), 0);
    // Counted only: no node's record, one line per address.
    EXPECT_FALSE(std::filesystem::exists(dir_ / "enrolled.json"));
    auto lines = lines_of(dir_ / "controller.log");
    EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                            [](const std::string& l) { return l.find("127.0.0.9") != l.npos; }),
              2);
}

TEST_F(GuardedServer, IdleConnectionsAreHeldWithoutShuttingOutTheNodes) {
    // 70 addresses × 4 idle connections: 256 held (the strangers' cap), the rest closed.
    std::vector<net::Socket> idle;
    for (int a = 0; a < 70; ++a) {
        for (int i = 0; i < 4; ++i)
            idle.push_back(connect_from("127.0.0." + std::to_string(100 + a)));
    }
    auto until = std::chrono::steady_clock::now() + 1500ms;
    while (server_->guard().sessions() < 256 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(10ms);
    EXPECT_EQ(server_->guard().sessions(), 256);
    // A node's address is not a stranger's: it gets in while they are held.
    net::Socket node = connect_from("127.0.0.2");
    EXPECT_FALSE(closed_within(node, 300ms));
    EXPECT_EQ(server_->guard().sessions(), 257);
    long long refused = 0;
    for (const auto& s : server_->guard().sources())
        refused += count_of(s, "too many sessions at once from addresses that are no node's");
    EXPECT_EQ(refused, 70 * 4 - 256);
}

TEST_F(GuardedServer, BeaconsThatDoNotVerifyAreCountedNeverRecorded) {
    net::Socket udp = net::udp_sender();
    // Wrong secret: a valid beacon of another site.
    auto other = proto::derive_node_keys(node::node_key(crypto::Bytes(32, 7), "compute1"));
    for (int i = 0; i < 50; ++i) {
        net::send_udp(udp, "127.0.0.1", port_,
                      proto::encode(proto::make_beacon(other, "compute1")));
        net::send_udp(udp, "127.0.0.1", port_, "");
        net::send_udp(udp, "127.0.0.1", port_, "{\"type\":\"beacon\n\"}");
    }
    // The sender's address is 127.0.0.1 (inside the network).
    EXPECT_TRUE(counted("127.0.0.1", "beacon does not verify", 50));
    EXPECT_TRUE(counted("127.0.0.1", "malformed beacon", 50));  // empty datagrams are dropped
    EXPECT_FALSE(state_->node("compute1"));
    state_->flush();
    EXPECT_FALSE(std::filesystem::exists(dir_ / "enrolled.json"));
    EXPECT_LE(lines_of(dir_ / "controller.log").size(), 3u);  // "listening …" and one summary
}

TEST_F(GuardedServer, BeaconsAreReceivedOnTheManagementAddressOnly) {
    // Bound to 127.0.0.1, not 0.0.0.0: what is sent to another local address never arrives
    // (on 0.0.0.0 this would be counted as a malformed beacon).
    net::Socket udp = net::udp_sender();
    net::send_udp(udp, "127.0.0.5", port_, "not a beacon");
    net::send_udp(udp, "127.0.0.1", port_, "not a beacon either");
    ASSERT_TRUE(counted("127.0.0.1", "malformed beacon", 1));
    std::this_thread::sleep_for(300ms);
    auto all = server_->guard().sources();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].total, 1);
}

}  // namespace
}  // namespace airstrap::firstboot
