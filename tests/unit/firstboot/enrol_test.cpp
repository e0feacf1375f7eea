// The enrolment server and client over loopback (127.0.0.1 is the controller, 127.0.0.2 and
// 127.0.0.3 the nodes: Linux answers the whole 127/8 on lo), with real sockets and threads.
#include "firstboot/enrol.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "node/credentials.hpp"

namespace airstrap::firstboot {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const std::string key_a = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIComputeOneFirstInstall00000000000";
const std::string key_b = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIComputeOneReinstalled0000000000";
const std::string key_c = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIControllerHostKey00000000000000";
const std::string root_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIControllerRootKey0000000000000";

std::uint16_t test_port() {
    return static_cast<std::uint16_t>(30000 + (::getpid() * 7 + 13) % 20000);
}

// Three nodes on loopback addresses, written as the kickstart writes site.json.
std::string site_json(std::uint16_t port, const std::string& compute1_address = "127.0.0.2") {
    node::Site site;
    site.site = {"loop", "test", "el7", "UTC"};
    site.networks["management"] = {"management", "127.0.0.0/8", std::nullopt, {}, 1500};
    auto add = [&](const char* name, node::Role role, const std::string& addr) {
        site.nodes.push_back({name, role, false, {{"lo", "", "management", addr, ""}}});
    };
    add("controller", node::Role::controller, "127.0.0.1");
    add("compute1", node::Role::compute, compute1_address);
    add("compute2", node::Role::compute, "127.0.0.3");
    site.security = {"disabled", false, false};
    site.firstboot = {port, 60, 60, 3600,
                      crypto::to_hex(node::controller_public_key(crypto::Bytes(32, 9)))};
    site.openstack.deployer = "packstack";
    site.openstack.release = "queens";
    site.openstack.l2_agent = "openvswitch";
    return node::site_json_text(site);
}

node::Identity identity(const std::string& node, std::uint16_t port, std::uint8_t secret_byte = 9,
                        const std::string& compute1_address = "127.0.0.2") {
    node::Identity id;
    id.site = node::parse_site_json(site_json(port, compute1_address));
    id.node = node;
    crypto::Bytes secret(32, secret_byte);
    id.node_key = node::node_key(secret, node);
    if (node == "controller") id.site_secret = secret;
    return id;
}

class EnrolTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("airstrap-enrol-test-" + std::to_string(::getpid()));
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        port_ = test_port();
        controller_ = identity("controller", port_);
        state_ = std::make_unique<SiteState>(dir_ / "enrolled.json", dir_ / "rejoin");
        log_ = std::make_unique<Log>(dir_ / "controller.log", "controller");
        server_ = std::make_unique<EnrolServer>(controller_, *state_, std::vector{key_c}, root_key,
                                                *log_, traffic_);
        server_->start();
    }
    void TearDown() override {
        server_->stop();
        std::filesystem::remove_all(dir_);
    }

    std::filesystem::path dir_;
    std::uint16_t port_ = 0;
    node::Identity controller_;
    std::unique_ptr<SiteState> state_;
    std::unique_ptr<Log> log_;
    Traffic traffic_;
    std::unique_ptr<EnrolServer> server_;
};

TEST_F(EnrolTest, EnrolPinsAndAnswersWithTheControllersKey) {
    node::Identity node = identity("compute1", port_);
    Traffic t;
    EnrolClient client(node, {key_a}, t);
    auto reply = client.request(proto::Purpose::enrol, json::object());
    ASSERT_TRUE(reply.ok) << reply.error;
    EXPECT_EQ(reply.body["controller_key"], root_key);
    auto rec = state_->node("compute1");
    ASSERT_TRUE(rec);
    EXPECT_TRUE(rec->enrolled);
    EXPECT_EQ(rec->host_keys, std::vector<std::string>{key_a});
    EXPECT_EQ(rec->address, "127.0.0.2");
    EXPECT_EQ(t.sessions, 1);
    EXPECT_EQ(t.frames, 4);
    // Again with the same keys: still fine, nothing changes.
    EXPECT_TRUE(client.request(proto::Purpose::enrol, json::object()).ok);
    EXPECT_EQ(state_->node("compute1")->generation, 1);
}

TEST_F(EnrolTest, ChangedHostKeyIsRefusedUntilARejoinWindowOpens) {
    node::Identity node = identity("compute1", port_);
    Traffic t;
    ASSERT_TRUE(EnrolClient(node, {key_a}, t).request(proto::Purpose::enrol, json::object()).ok);
    EnrolClient reinstalled(node, {key_b}, t);
    auto refused = reinstalled.request(proto::Purpose::enrol, json::object());
    EXPECT_FALSE(refused.ok);
    EXPECT_NE(refused.error.find("airstrap rejoin compute1"), std::string::npos) << refused.error;
    EXPECT_NE(state_->node("compute1")->last_refusal.find("rejoin"), std::string::npos);
    EXPECT_EQ(state_->node("compute1")->host_keys, std::vector<std::string>{key_a});
    // Nor can it use the old pin for anything else.
    EXPECT_FALSE(reinstalled.request(proto::Purpose::roster, json::object()).ok);

    int before = state_->roster_generation();
    SiteState::open_rejoin(dir_ / "rejoin", "compute1");
    ASSERT_TRUE(reinstalled.request(proto::Purpose::enrol, json::object()).ok);
    EXPECT_EQ(state_->node("compute1")->host_keys, std::vector<std::string>{key_b});
    EXPECT_GT(state_->roster_generation(), before);
    // The window is used up: the first install's key is refused now.
    EXPECT_FALSE(EnrolClient(node, {key_a}, t).request(proto::Purpose::enrol, json::object()).ok);
}

TEST_F(EnrolTest, AnExpiredRejoinWindowIsClosedAndTheNodeIsToldSo) {
    node::Identity node = identity("compute1", port_);
    Traffic t;
    ASSERT_TRUE(EnrolClient(node, {key_a}, t).request(proto::Purpose::enrol, json::object()).ok);
    double expired = SiteState::open_rejoin(dir_ / "rejoin", "compute1", 0s);
    auto refused = EnrolClient(node, {key_b}, t).request(proto::Purpose::enrol, json::object());
    EXPECT_FALSE(refused.ok);
    EXPECT_NE(refused.error.find("rejoin window expired at " + format_utc(expired) +
                                 "; run `airstrap rejoin compute1` on the controller again"),
              std::string::npos)
        << refused.error;
    EXPECT_EQ(state_->node("compute1")->host_keys, std::vector<std::string>{key_a});
    // The pinned keys still enrol, and leave a fresh window open for the reinstall.
    SiteState::open_rejoin(dir_ / "rejoin", "compute1", 60s);
    ASSERT_TRUE(EnrolClient(node, {key_a}, t).request(proto::Purpose::enrol, json::object()).ok);
    EXPECT_TRUE(state_->rejoin_open("compute1"));
    ASSERT_TRUE(EnrolClient(node, {key_b}, t).request(proto::Purpose::enrol, json::object()).ok);
    EXPECT_FALSE(state_->rejoin_open("compute1"));
}

TEST_F(EnrolTest, WrongNodeKeyIsRefusedAndTheNodeIsToldWhy) {
    node::Identity node = identity("compute1", port_, /*secret_byte=*/10);
    Traffic t;
    auto r = EnrolClient(node, {key_a}, t).request(proto::Purpose::enrol, json::object());
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("its proof does not verify"), std::string::npos) << r.error;
    EXPECT_NE(r.error.find("node.key"), std::string::npos) << r.error;
    EXPECT_FALSE(state_->node("compute1") && state_->node("compute1")->enrolled);
}

TEST_F(EnrolTest, ANodesKeyDoesNotEnrolAnotherNode) {
    // compute1's media (its node.key) on a host at compute2's address, claiming compute2.
    node::Identity thief = identity("compute2", port_);
    thief.node_key = identity("compute1", port_).node_key;
    Traffic t;
    auto r = EnrolClient(thief, {key_a}, t).request(proto::Purpose::enrol, json::object());
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("its proof does not verify"), std::string::npos) << r.error;
    EXPECT_FALSE(state_->node("compute2") && state_->node("compute2")->enrolled);
    // The real compute2 still enrols with its own key.
    auto real = EnrolClient(identity("compute2", port_), {key_b}, t)
                    .request(proto::Purpose::enrol, json::object());
    EXPECT_TRUE(real.ok) << real.error;
    EXPECT_EQ(state_->node("compute2")->host_keys, std::vector<std::string>{key_b});
}

TEST_F(EnrolTest, AControllerWithAnotherSigningKeyIsRefused) {
    // A fake controller: a site secret of its own (so its own signing key), even with the
    // node keys it derives from it; the node's site.json names the real controller's key.
    std::uint16_t fake_port = static_cast<std::uint16_t>(port_ + 1);
    node::Identity fake = identity("controller", fake_port, /*secret_byte=*/10);
    SiteState fake_state(dir_ / "fake-enrolled.json", dir_ / "fake-rejoin");
    Log fake_log(dir_ / "fake.log", "controller");
    Traffic ft;
    const std::string fake_root =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeControllerRootKey000000000000";
    EnrolServer fake_server(fake, fake_state, {key_c}, fake_root, fake_log, ft);
    fake_server.start();
    node::Identity node = identity("compute1", fake_port);
    Traffic t;
    try {
        auto r = EnrolClient(node, {key_a}, t).request(proto::Purpose::enrol, json::object());
        ADD_FAILURE() << "a controller with another signing key was believed: ok=" << r.ok;
    } catch (const proto::ProtocolError& e) {
        EXPECT_NE(std::string(e.what()).find("is not this site's controller"), std::string::npos)
            << e.what();
        EXPECT_EQ(std::string(e.what()).find(fake_root), std::string::npos) << e.what();
    }
    fake_server.stop();
}

TEST_F(EnrolTest, AVersion1HelloIsRefusedWithAClearMessage) {
    net::Socket s = net::connect_tcp("127.0.0.2", "127.0.0.1", port_, 2s);
    json v1 = {{"v", 1},
               {"type", "hello"},
               {"node", "compute1"},
               {"purpose", "enrol"},
               {"nonce", std::string(64, 'a')},
               {"host_keys", {key_a}},
               {"body", "{}"}};
    auto deadline = net::Clock::now() + 3s;
    net::write_frame(s, v1.dump(), deadline);
    EXPECT_ANY_THROW(net::read_frame(s, deadline));  // no challenge for a v1 node
    std::string log;
    for (int i = 0; i < 100 && log.find("version 1") == std::string::npos; ++i) {
        std::this_thread::sleep_for(20ms);
        log = read_file(dir_ / "controller.log", 1 << 20);
    }
    EXPECT_NE(log.find("speaks enrolment protocol version 1, this airstrap speaks version 2"),
              std::string::npos)
        << log;
    EXPECT_FALSE(state_->node("compute1") && state_->node("compute1")->enrolled);
}

TEST_F(EnrolTest, UnknownNodeAndWrongAddressAreRefused) {
    Traffic t;
    node::Identity stranger = identity("compute2", port_);
    stranger.site.nodes[2].name = "compute9";  // its site.json names a node the controller lacks
    stranger.node = "compute9";
    auto r = EnrolClient(stranger, {key_a}, t).request(proto::Purpose::enrol, json::object());
    EXPECT_FALSE(r.ok);
    // The same answer as a wrong key: it does not tell which names exist.
    EXPECT_NE(r.error.find("its proof does not verify"), std::string::npos) << r.error;
    EXPECT_EQ(r.error.find("not a node"), std::string::npos) << r.error;

    // compute1 claims to be at 127.0.0.4; the controller knows it at 127.0.0.2.
    node::Identity moved = identity("compute1", port_, 9, "127.0.0.4");
    r = EnrolClient(moved, {key_a}, t).request(proto::Purpose::enrol, json::object());
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("connected from 127.0.0.4"), std::string::npos) << r.error;
}

TEST_F(EnrolTest, RosterAndReportNeedEnrolmentAndCarryThePins) {
    Traffic t;
    node::Identity one = identity("compute1", port_);
    EnrolClient c1(one, {key_a}, t);
    auto early = c1.request(proto::Purpose::roster, json::object());
    EXPECT_FALSE(early.ok);
    EXPECT_NE(early.error.find("not enrolled"), std::string::npos);
    ASSERT_TRUE(c1.request(proto::Purpose::enrol, json::object()).ok);
    auto roster = c1.request(proto::Purpose::roster, json::object());
    ASSERT_TRUE(roster.ok);
    EXPECT_FALSE(roster.body["complete"].get<bool>());  // compute2 is missing
    ASSERT_EQ(roster.body["nodes"].size(), 2u);
    EXPECT_EQ(roster.body["nodes"][0]["name"], "controller");
    EXPECT_EQ(roster.body["nodes"][0]["host_keys"], json::array({key_c}));
    EXPECT_EQ(roster.body["nodes"][1]["fqdn"], "compute1.test");

    node::Identity two = identity("compute2", port_);
    EnrolClient c2(two, {key_b}, t);
    ASSERT_TRUE(c2.request(proto::Purpose::enrol, json::object()).ok);
    EXPECT_TRUE(c1.request(proto::Purpose::roster, json::object()).body["complete"].get<bool>());

    StepRecord s;
    s.name = "chrony_wait";
    s.state = StepState::done;
    s.detail = "synchronised to 127.0.0.1";
    s.attempts = 1;
    auto rep = c2.request(proto::Purpose::report, json{{"steps", steps_to_json({s})}});
    ASSERT_TRUE(rep.ok) << rep.error;
    auto rec = state_->node("compute2");
    ASSERT_EQ(rec->steps.size(), 1u);
    EXPECT_EQ(rec->steps[0].detail, "synchronised to 127.0.0.1");
}

TEST(KnownHostsFromRoster, NamesComeFromTheNodesOwnSiteAndOnlyItsNodesCount) {
    node::Identity id = identity("compute2", 7447);
    json roster = {
        {"generation", 3},
        {"complete", true},
        {"nodes",
         json::array({
             // The roster's names and addresses for a real node are not used: site.json's are.
             {{"name", "controller"},
              {"fqdn", "*"},
              {"address", "10.6.6.6"},
              {"host_keys", {key_c + " root@controller"}}},
             {{"name", "compute1"}, {"host_keys", {key_b, key_a}}},
             // Not a node of the site: ignored, whatever it carries.
             {{"name", "*"}, {"host_keys", {key_a}}},
             {{"name", "attacker"}, {"address", "127.0.0.9"}, {"host_keys", {key_a}}},
         })}};
    auto hosts = known_hosts_from_roster(id.site, roster);
    ASSERT_EQ(hosts.size(), 2u);
    EXPECT_EQ(hosts[0].names,
              (std::vector<std::string>{"127.0.0.1", "controller", "controller.test"}));
    EXPECT_EQ(hosts[0].keys, std::vector<std::string>{key_c});
    EXPECT_EQ(hosts[1].names, (std::vector<std::string>{"127.0.0.2", "compute1", "compute1.test"}));
    EXPECT_EQ(hosts[1].keys, (std::vector<std::string>{key_a, key_b}));
    roster["nodes"][1]["host_keys"] = {"ssh-ed25519 $(reboot)"};
    EXPECT_THROW(known_hosts_from_roster(id.site, roster), proto::ProtocolError);
    EXPECT_THROW(known_hosts_from_roster(id.site, json{{"nodes", 1}}), proto::ProtocolError);
}

TEST_F(EnrolTest, GarbageAndHalfSessionsDoNotHurtTheServer) {
    for (const std::string& junk :
         {std::string("\0\0\0\0", 4), std::string("\xff\xff\xff\xff", 4),
          std::string("\0\0\0\x05{}{}{", 9), std::string("GET / HTTP/1.0\r\n\r\n")}) {
        net::Socket s = net::connect_tcp("127.0.0.2", "127.0.0.1", port_, 2s);
        ::send(s.fd(), junk.data(), junk.size(), MSG_NOSIGNAL);
    }
    // They are closed at once (each counted as a failure); until then they hold places of
    // 127.0.0.2's four. Wait until all four were accepted, counted and released.
    auto failures = [&] {
        long long n = 0;
        for (const auto& s : server_->guard().sources())
            if (s.address == "127.0.0.2") n = s.total;
        return n;
    };
    auto until = std::chrono::steady_clock::now() + 10s;
    while ((failures() < 4 || server_->guard().sessions() > 0) &&
           std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(10ms);
    EXPECT_EQ(failures(), 4);
    EXPECT_EQ(server_->guard().sessions(), 0);
    Traffic t;
    auto r = EnrolClient(identity("compute1", port_), {key_a}, t)
                 .request(proto::Purpose::enrol, json::object());
    EXPECT_TRUE(r.ok) << r.error;
}

TEST_F(EnrolTest, BeaconsMarkANodeSeenAndForgedOnesAreOnlyCounted) {
    Traffic t;
    node::Identity node = identity("compute2", port_);
    EnrolClient(node, {key_a}, t).beacon();
    node::Identity forged = identity("compute1", port_, /*secret_byte=*/11);
    EnrolClient(forged, {key_a}, t).beacon();
    auto deadline = std::chrono::steady_clock::now() + 3s;
    auto forged_counted = [&] {
        for (const auto& s : server_->guard().sources())
            for (const auto& [reason, n] : s.counts)
                if (reason == "beacon does not verify" &&
                    s.names == std::vector<std::string>{"compute1"})
                    return true;
        return false;
    };
    while (std::chrono::steady_clock::now() < deadline) {
        auto a = state_->node("compute2");
        if (a && a->last_seen > 0 && forged_counted()) break;
        std::this_thread::sleep_for(20ms);
    }
    ASSERT_TRUE(state_->node("compute2"));
    EXPECT_GT(state_->node("compute2")->last_seen, 0);
    EXPECT_FALSE(state_->node("compute2")->enrolled);
    // Anyone can send a beacon: one that does not verify is counted, never a node's state.
    EXPECT_TRUE(forged_counted());
    EXPECT_FALSE(state_->node("compute1"));
}

}  // namespace
}  // namespace airstrap::firstboot
