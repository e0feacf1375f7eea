// provision/: the state machine, the state file, the tree's private half and the service's
// answers (handlers directly, then through libmicrohttpd on a unix socket).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "common/crypto.hpp"
#include "common/error.hpp"
#include "node/credentials.hpp"
#include "provision/admin.hpp"
#include "provision/service.hpp"
#include "provision/state.hpp"
#include "provision/store.hpp"
#include "provision/tree.hpp"
#include "tests/unit/test_support.hpp"

namespace airstrap::provision {
namespace {

namespace fs = std::filesystem;
using testutil::message_of;
using testutil::put;
using testutil::slurp;

// ---- the state machine ---------------------------------------------------------------------

TEST(StateMachine, EveryTransition) {
    NodeState n;
    EXPECT_EQ(n.state, BuildState::build);
    EXPECT_EQ(n.phase, Phase::waiting);
    EXPECT_EQ(on_dhcp(n, "192.168.111.12", 10), Change::changed);
    EXPECT_EQ(n.phase, Phase::dhcp);
    EXPECT_EQ(n.phase_since, 10);
    EXPECT_EQ(n.address, "192.168.111.12");
    EXPECT_EQ(on_tftp_sent(n, false, 11), Change::changed);
    EXPECT_EQ(n.phase, Phase::boot_file_sent);
    EXPECT_EQ(on_tftp_sent(n, true, 12), Change::unchanged);  // still the boot files
    EXPECT_EQ(n.phase_since, 11);
    EXPECT_EQ(on_kickstart_fetched(n, 13), Change::changed);
    EXPECT_EQ(n.phase, Phase::kickstart_fetched);
    on_error(n, "something", 13);
    EXPECT_EQ(on_installed(n, 20), Change::changed);
    EXPECT_EQ(n.state, BuildState::local);
    EXPECT_EQ(n.phase, Phase::installed);
    EXPECT_EQ(n.installs, 1u);
    EXPECT_EQ(n.installed_at, 20);
    EXPECT_EQ(n.last_error, "");  // a verified install clears the last error

    // Installed: its kickstart and a second report are refused, a reboot is a local boot.
    EXPECT_EQ(on_kickstart_fetched(n, 21), Change::refused);
    EXPECT_EQ(on_installed(n, 21), Change::refused);
    EXPECT_EQ(on_dhcp(n, "192.168.111.12", 22), Change::unchanged);
    EXPECT_EQ(n.phase, Phase::installed);
    EXPECT_EQ(on_tftp_sent(n, false, 23), Change::unchanged);  // the boot loader alone
    EXPECT_EQ(on_tftp_sent(n, true, 23), Change::changed);
    EXPECT_EQ(n.phase, Phase::local_boot);
    EXPECT_EQ(n.state, BuildState::local);

    EXPECT_EQ(on_rebuild(n, 30), Change::changed);
    EXPECT_EQ(n.state, BuildState::build);
    EXPECT_EQ(n.phase, Phase::waiting);
    EXPECT_EQ(on_rebuild(n, 31), Change::unchanged);
    EXPECT_EQ(on_kickstart_fetched(n, 32), Change::changed);
    EXPECT_EQ(on_rebuild(n, 33), Change::changed);  // an attempt under way starts over
    EXPECT_EQ(n.phase, Phase::waiting);
    EXPECT_EQ(n.installs, 1u);
}

TEST(StateMachine, NamesRoundTrip) {
    for (Phase p : {Phase::waiting, Phase::dhcp, Phase::boot_file_sent, Phase::kickstart_fetched,
                    Phase::installed, Phase::local_boot}) {
        EXPECT_EQ(phase_from(to_string(p)), p);
    }
    EXPECT_EQ(build_state_from("local"), BuildState::local);
    EXPECT_FALSE(build_state_from("Local"));
    EXPECT_FALSE(phase_from("booting"));
}

TEST(StateFile, RoundTripAndRefusals) {
    StateFile s;
    s.nodes["a"].state = BuildState::local;
    s.nodes["a"].phase = Phase::local_boot;
    s.nodes["a"].installs = 3;
    s.nodes["b"].last_error = "TFTP: file x not found";
    StateFile back = parse_state_json(state_json_text(s), "nodes.json");
    EXPECT_EQ(state_json_text(back), state_json_text(s));
    EXPECT_EQ(back.nodes["a"].state, BuildState::local);

    EXPECT_EQ(message_of([] {
                  parse_state_json("{\n  \"format\": 1,\n  \"nodes\": {\n", "/t/state/nodes.json");
              }),
              "/t/state/nodes.json:4:1: not valid JSON (syntax error while parsing object key - "
              "unexpected end of input; expected string literal)");
    EXPECT_EQ(message_of([] { parse_state_json(R"({"format": 2, "nodes": {}})", "f"); }),
              "f: 'format': expected 1");
    std::string bad_state = state_json_text(s);
    bad_state.replace(bad_state.find("\"local\""), 7, "\"gone\"");
    EXPECT_EQ(message_of([&] { parse_state_json(bad_state, "f"); }),
              "f: nodes.a: 'state': 'gone' is neither 'build' nor 'local'");
    EXPECT_EQ(message_of([] {
                  parse_state_json(R"({"format": 1, "nodes": {"a": {"state": "build"}}})", "f");
              }),
              "f: nodes.a: 'phase': missing");
}

// ---- a tree -------------------------------------------------------------------------------

crypto::Bytes key_of(const std::string& node) {
    crypto::Bytes secret(32, 7);
    return node::install_report_key(node::node_key(secret, node));
}

ServiceConfig lab_config() {
    ServiceConfig c;
    c.site = "lab";
    c.server_ip = "192.168.111.1";
    c.http_port = 8080;
    for (auto [name, addr, mac] :
         {std::tuple{"controller-node", "192.168.111.10", "00:0c:29:3a:10:10"},
          std::tuple{"compute-node", "192.168.111.12", "00:0c:29:5e:12:12"}}) {
        NodeEntry n;
        n.name = name;
        n.role = name == std::string("compute-node") ? "compute" : "controller";
        n.address = addr;
        n.macs = {mac};
        n.kickstart = std::string("nodes/") + name + ".ks";
        n.report_key = key_of(name);
        std::string id = std::string("01-") + mac;
        std::replace(id.begin(), id.end(), ':', '-');
        n.boot_files = {{"tftp/pxelinux.cfg/" + id, std::string("install ") + name + "\n",
                         std::string("localboot ") + name + "\n"},
                        {"tftp/grub.cfg-" + id, "grub install\n", "grub exit\n"}};
        c.nodes.push_back(n);
    }
    return c;
}

class Tree : public ::testing::Test {
  protected:
    void SetUp() override {
        dir = fs::temp_directory_path() /
              ("provision-test-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir);
        fs::create_directories(dir);
        config = lab_config();
        prepare_tree(dir, "", config);
        for (const auto& n : config.nodes) {
            put(dir / kickstart_dir / n.kickstart, "# kickstart of " + n.name + "\n");
        }
    }
    void TearDown() override { fs::remove_all(dir); }

    std::string file(const std::string& rel) { return slurp(dir / rel); }
    NodeState state_of(const std::string& node) { return StateStore(dir).load().nodes[node]; }

    fs::path dir;
    ServiceConfig config;
};

TEST_F(Tree, PrepareWritesPrivateHalfAndBuildConfigs) {
    struct stat st {};
    ASSERT_EQ(::stat((dir / private_dir).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    ASSERT_EQ(::stat((dir / service_file).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    ASSERT_EQ(::stat((dir / state_file).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(file("tftp/pxelinux.cfg/01-00-0c-29-5e-12-12"), "install compute-node\n");
    ServiceConfig back = read_service_config(dir);
    EXPECT_EQ(service_json_text(back), service_json_text(config));
    EXPECT_EQ(state_of("compute-node").state, BuildState::build);
}

TEST_F(Tree, RebuildingTheTreeKeepsInstalledNodesLocal) {
    StateStore(dir).update(
        [](StateFile& s) { return on_installed(s.nodes["compute-node"], 5) == Change::changed; });
    fs::path next = dir.string() + ".next";
    fs::remove_all(next);
    ServiceConfig grown = config;
    grown.nodes.push_back(grown.nodes.back());
    grown.nodes.back().name = "compute-2";
    grown.nodes.back().address = "192.168.111.13";
    grown.nodes.back().boot_files = {{"tftp/pxelinux.cfg/01-x", "install 2\n", "local 2\n"}};
    auto prepared = prepare_tree(next, dir, grown);
    ASSERT_EQ(prepared.size(), 3u);
    EXPECT_FALSE(prepared[0].local);
    EXPECT_TRUE(prepared[1].local);
    EXPECT_FALSE(prepared[2].local);
    EXPECT_EQ(slurp(next / "tftp/pxelinux.cfg/01-00-0c-29-5e-12-12"), "localboot compute-node\n");
    EXPECT_EQ(slurp(next / "tftp/pxelinux.cfg/01-x"), "install 2\n");
    EXPECT_EQ(StateStore(next).load().nodes["compute-node"].installs, 1u);

    // A damaged state in the tree being replaced: refused, naming it, nothing half-written.
    put(dir / state_file, "{\"format\": 1, \"nodes\": [}");
    fs::path third = dir.string() + ".third";
    fs::remove_all(third);
    EXPECT_EQ(message_of([&] {
                  prepare_tree(third, dir, grown);
              }).substr(0, (dir / state_file).string().size() + 5),
              (dir / state_file).string() + ":1:25");
    EXPECT_FALSE(fs::exists(third / service_file));
    fs::remove_all(next);
    fs::remove_all(third);
}

TEST_F(Tree, CorruptStateFileIsRefusedWithItsPath) {
    put(dir / state_file, "{ not json");
    std::string m = message_of([&] { StateStore(dir).load(); });
    EXPECT_NE(m.find((dir / state_file).string() + ":1:4: not valid JSON"), std::string::npos) << m;
    EXPECT_NE(m.find("fix it, or remove it"), std::string::npos) << m;
    EXPECT_NE(message_of([&] { Service(dir, {}); }).find((dir / state_file).string()),
              std::string::npos);
    fs::remove(dir / state_file);
    EXPECT_NE(message_of([&] { node_status(dir); }).find("nodes.json is missing"),
              std::string::npos);
}

// ---- the service's answers ----------------------------------------------------------------

struct Clock {
    std::int64_t now = 1000;
};

class ServiceTest : public Tree {
  protected:
    void SetUp() override {
        Tree::SetUp();
        service = std::make_unique<Service>(
            dir, [this](const std::string& l) { lines.push_back(l); },
            [this] { return clock.now; });
    }
    Response get_ks(const std::string& node, const std::string& from) {
        return service->handle("GET", "/ks/nodes/" + node + ".ks", "", from, "");
    }
    std::string nonce_for(const std::string& node, const std::string& from) {
        Response r = service->handle("GET", "/airstrap/v1/nonce", node, from, "");
        EXPECT_EQ(r.status, 200) << r.body;
        return r.body.substr(0, r.body.find('\n'));
    }
    Response report(const std::string& node, const std::string& from, const std::string& nonce,
                    const crypto::Bytes& key, const std::string& time = "1003") {
        std::string mac =
            crypto::to_hex(crypto::hmac_sha256(key, report_message(node, nonce, time)));
        return service->handle(
            "POST", "/airstrap/v1/installed", "", from,
            "node=" + node + "&nonce=" + nonce + "&time=" + time + "&mac=" + mac);
    }
    bool logged(const std::string& part) {
        for (const auto& l : lines) {
            if (l.find(part) != std::string::npos) return true;
        }
        return false;
    }

    Clock clock;
    std::unique_ptr<Service> service;
    std::vector<std::string> lines;
};

TEST_F(ServiceTest, KickstartOnlyToItsNodesAddressWhileInBuild) {
    Response r = get_ks("compute-node", "192.168.111.12");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "# kickstart of compute-node\n");
    EXPECT_EQ(state_of("compute-node").phase, Phase::kickstart_fetched);
    EXPECT_TRUE(logged("compute-node: kickstart fetched (from 192.168.111.12)"));

    for (auto [node, from] : {std::pair{"compute-node", "192.168.111.10"},  // another node
                              std::pair{"compute-node", "192.168.111.99"},  // a stranger
                              std::pair{"controller-node", "192.168.111.12"},
                              std::pair{"../../service", "192.168.111.12"},  // no such kickstart
                              std::pair{"compute-node", ""},                 // no header
                              std::pair{"compute-node", "192.168.111.12, 1.2.3.4"}}) {
        Response refused = get_ks(node, from);
        EXPECT_EQ(refused.status, 403) << node << " from " << from;
        EXPECT_EQ(refused.body, "forbidden\n");
    }
    EXPECT_TRUE(
        logged("refused 192.168.111.99: asked for compute-node's kickstart, which goes only "
               "to compute-node's address 192.168.111.12"));
    EXPECT_EQ(service->handle("GET", "/airstrap/v1/other", "", "192.168.111.12", "").status, 404);
    EXPECT_EQ(
        service->handle("DELETE", "/ks/nodes/compute-node.ks", "", "192.168.111.12", "").status,
        404);
}

TEST_F(ServiceTest, RefusalsAreLoggedOnceAMinutePerAddressAndReason) {
    for (int i = 0; i < 50; ++i) get_ks("compute-node", "192.168.111.99");
    EXPECT_EQ(lines.size(), 1u);
    clock.now += 61;
    get_ks("compute-node", "192.168.111.99");
    EXPECT_EQ(lines.size(), 2u);
}

TEST_F(ServiceTest, VerifiedReportSwitchesToLocalBoot) {
    std::string n = nonce_for("compute-node", "192.168.111.12");
    EXPECT_EQ(n.size(), 64u);
    Response r = report("compute-node", "192.168.111.12", n, key_of("compute-node"));
    EXPECT_EQ(r.status, 200) << r.body;
    NodeState s = state_of("compute-node");
    EXPECT_EQ(s.state, BuildState::local);
    EXPECT_EQ(s.phase, Phase::installed);
    EXPECT_EQ(file("tftp/pxelinux.cfg/01-00-0c-29-5e-12-12"), "localboot compute-node\n");
    EXPECT_EQ(file("tftp/grub.cfg-01-00-0c-29-5e-12-12"), "grub exit\n");
    EXPECT_EQ(file("tftp/pxelinux.cfg/01-00-0c-29-3a-10-10"), "install controller-node\n");
    EXPECT_TRUE(logged("compute-node: installed (report verified, from 192.168.111.12)"));
    // Installed: its kickstart and a nonce are refused.
    EXPECT_EQ(get_ks("compute-node", "192.168.111.12").status, 403);
    EXPECT_TRUE(logged("compute-node is installed (state local; 'airstrap serve"));
    EXPECT_EQ(
        service->handle("GET", "/airstrap/v1/nonce", "compute-node", "192.168.111.12", "").status,
        403);

    // --rebuild (another process) puts it back: configs and kickstart follow at once.
    EXPECT_TRUE(rebuild(dir, "compute-node", 2000));
    EXPECT_FALSE(rebuild(dir, "compute-node", 2001));
    EXPECT_EQ(file("tftp/pxelinux.cfg/01-00-0c-29-5e-12-12"), "install compute-node\n");
    EXPECT_EQ(get_ks("compute-node", "192.168.111.12").status, 200);
    EXPECT_EQ(message_of([&] { rebuild(dir, "compute", 1); }),
              "--rebuild compute: the tree " + dir.string() +
                  " has no such node (it serves controller-node, compute-node)");
}

TEST_F(ServiceTest, ForgedReportsChangeNothing) {
    std::string before = file(state_file);
    std::string n = nonce_for("compute-node", "192.168.111.12");
    // The wrong key (another node's report key), from the right address.
    EXPECT_EQ(report("compute-node", "192.168.111.12", n, key_of("controller-node")).status, 403);
    // The nonce is spent even by a failed attempt.
    EXPECT_EQ(report("compute-node", "192.168.111.12", n, key_of("compute-node")).status, 403);
    // A nonce never issued; from another address; for a stranger; malformed bodies.
    EXPECT_EQ(report("compute-node", "192.168.111.12", std::string(64, 'a'), key_of("compute-node"))
                  .status,
              403);
    std::string n2 = nonce_for("compute-node", "192.168.111.12");
    EXPECT_EQ(report("compute-node", "192.168.111.99", n2, key_of("compute-node")).status, 403);
    EXPECT_EQ(service
                  ->handle("POST", "/airstrap/v1/installed", "", "192.168.111.12",
                           "node=compute-node&nonce=" + n2 + "&time=1&mac=" + std::string(64, '0') +
                               "&x=1")
                  .status,
              403);
    EXPECT_EQ(
        service->handle("POST", "/airstrap/v1/installed", "", "192.168.111.12", "garbage").status,
        403);
    EXPECT_EQ(
        service->handle("GET", "/airstrap/v1/nonce", "compute-node", "192.168.111.10", "").status,
        403);
    // An expired nonce.
    std::string n3 = nonce_for("compute-node", "192.168.111.12");
    clock.now += 15 * 60 + 1;
    EXPECT_EQ(report("compute-node", "192.168.111.12", n3, key_of("compute-node")).status, 403);
    EXPECT_EQ(file(state_file), before);
    EXPECT_EQ(file("tftp/pxelinux.cfg/01-00-0c-29-5e-12-12"), "install compute-node\n");
    EXPECT_TRUE(logged("an install report for compute-node that does not verify"));
    // Still works with a fresh nonce and the right key; the clock difference is logged.
    std::string n4 = nonce_for("compute-node", "192.168.111.12");
    EXPECT_EQ(report("compute-node", "192.168.111.12", n4, key_of("compute-node"), "100").status,
              200);
    EXPECT_TRUE(logged("its clock is 1801 s behind"));
}

TEST_F(ServiceTest, DnsmasqLinesMoveThePhases) {
    service->dnsmasq_line(
        "dnsmasq-dhcp: 2417 DHCPACK(br0) 192.168.111.12 00:0c:29:5e:12:12 compute-node");
    EXPECT_EQ(state_of("compute-node").phase, Phase::dhcp);
    EXPECT_EQ(state_of("compute-node").address, "192.168.111.12");
    service->dnsmasq_line(
        "dnsmasq-dhcp: 1 DHCPACK(br0) 192.168.111.77 52:54:00:00:00:01");  // stranger
    service->dnsmasq_line("dnsmasq-tftp: sent " + (dir / "tftp/pxelinux.0").string() +
                          " to 192.168.111.12");
    EXPECT_EQ(state_of("compute-node").phase, Phase::boot_file_sent);
    EXPECT_TRUE(logged("compute-node: boot file sent (tftp/pxelinux.0)"));
    service->dnsmasq_line("dnsmasq-tftp: file " + (dir / "tftp/ldlinux.c32").string() +
                          " not found for 192.168.111.12");
    EXPECT_EQ(state_of("compute-node").last_error,
              "TFTP: file " + (dir / "tftp/ldlinux.c32").string() + " not found");
    EXPECT_EQ(state_of("controller-node").phase, Phase::waiting);

    std::string n = nonce_for("compute-node", "192.168.111.12");
    ASSERT_EQ(report("compute-node", "192.168.111.12", n, key_of("compute-node")).status, 200);
    service->dnsmasq_line("dnsmasq-tftp: sent " +
                          (dir / "tftp/pxelinux.cfg/01-00-0c-29-5e-12-12").string() +
                          " to 192.168.111.12");
    EXPECT_EQ(state_of("compute-node").phase, Phase::local_boot);
    EXPECT_TRUE(logged(
        "compute-node: local boot (tftp/pxelinux.cfg/01-00-0c-29-5e-12-12: boot the local disk)"));
}

TEST_F(ServiceTest, ARestartRepairsConfigsThatLagTheState) {
    // A crash between the state write and the config flip: the state says local, the
    // configs still install. The next service start writes them from the state.
    StateStore(dir).update(
        [](StateFile& s) { return on_installed(s.nodes["compute-node"], 5) == Change::changed; });
    EXPECT_EQ(file("tftp/pxelinux.cfg/01-00-0c-29-5e-12-12"), "install compute-node\n");
    Service again(dir, {});
    EXPECT_EQ(file("tftp/pxelinux.cfg/01-00-0c-29-5e-12-12"), "localboot compute-node\n");
    // A temp file a killed writer left beside nodes.json changes nothing.
    put(dir / "state/.nodes.json.tmp-abcdef", "{");
    EXPECT_EQ(state_of("compute-node").state, BuildState::local);
}

// ---- through libmicrohttpd ----------------------------------------------------------------

int connect_to(const fs::path& socket) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strcpy(a.sun_path, socket.c_str());
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << std::strerror(errno);
    return fd;
}

std::string http_exchange(const fs::path& socket, const std::string& request) {
    int fd = connect_to(socket);
    EXPECT_EQ(::write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    return out;
}

TEST_F(ServiceTest, OverHttpWithIdleAndHostileClients) {
    fs::path socket = dir / "http.sock";
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strcpy(a.sun_path, socket.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(fd, 64), 0);
    {
        HttpServer http(fd, *service);
        // Idle clients that never send a byte, and one that sends half a request.
        std::vector<int> idle;
        for (int i = 0; i < 20; ++i) idle.push_back(connect_to(socket));
        int half = connect_to(socket);
        ASSERT_GT(::write(half, "GET /ks/nodes/compute", 21), 0);

        auto t0 = std::chrono::steady_clock::now();
        std::string ok =
            http_exchange(socket,
                          "GET /ks/nodes/compute-node.ks HTTP/1.0\r\nX-Airstrap-Client: "
                          "192.168.111.12\r\n\r\n");
        EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
        EXPECT_NE(ok.find(" 200 OK"), std::string::npos) << ok;
        EXPECT_NE(ok.find("# kickstart of compute-node"), std::string::npos) << ok;

        std::string other =
            http_exchange(socket,
                          "GET /ks/nodes/compute-node.ks HTTP/1.0\r\nX-Airstrap-Client: "
                          "192.168.111.66\r\n\r\n");
        EXPECT_NE(other.find(" 403 Forbidden"), std::string::npos) << other;
        std::string garbage = http_exchange(socket, "\x01\x02 nonsense\r\n\r\n");
        EXPECT_EQ(garbage.find("200 OK"), std::string::npos) << garbage;
        std::string big =
            "POST /airstrap/v1/installed HTTP/1.0\r\nX-Airstrap-Client: 192.168.111.12\r\n"
            "Content-Length: 10000\r\n\r\n" +
            std::string(10000, 'a');
        std::string too_big = http_exchange(socket, big);
        EXPECT_NE(too_big.find(" 413 "), std::string::npos) << too_big.substr(0, 200);

        // A report over HTTP.
        std::string nonce_reply =
            http_exchange(socket,
                          "GET /airstrap/v1/nonce?node=compute-node HTTP/1.0\r\n"
                          "X-Airstrap-Client: 192.168.111.12\r\n\r\n");
        std::string n = nonce_reply.substr(nonce_reply.find("\r\n\r\n") + 4, 64);
        std::string body = "node=compute-node&nonce=" + n + "&time=1000&mac=" +
                           crypto::to_hex(crypto::hmac_sha256(
                               key_of("compute-node"), report_message("compute-node", n, "1000")));
        std::string installed = http_exchange(
            socket,
            "POST /airstrap/v1/installed HTTP/1.0\r\nX-Airstrap-Client: 192.168.111.12\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n\r\n" + body);
        EXPECT_NE(installed.find(" 200 OK"), std::string::npos) << installed;
        EXPECT_EQ(state_of("compute-node").state, BuildState::local);
        for (int i : idle) ::close(i);
        ::close(half);
    }
    ::close(fd);
}

}  // namespace
}  // namespace airstrap::provision
