// The controller's pins: a new node is pinned, the same keys change nothing, new keys are
// refused unless the operator opened a rejoin window (used once), and every change is on
// disk, whole, before the call returns, also with several threads calling at once.
#include "firstboot/site_state.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "firstboot/state_file.hpp"

namespace fs = std::filesystem;
using namespace airstrap;
using namespace airstrap::firstboot;
using nlohmann::json;
using Pin = SiteState::PinResult;

namespace {

const std::string ed25519 =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK4XiyH8PoovIO2/RS8Pik1evH/KFx3D1HZZ740QBb8c";
const std::string ed25519_reinstalled =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO/8YxGMGAKuDylHkLw6yrSSWOj6cuj73WV/7u9ZETiB";
const std::string ecdsa =
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHL9xsdwSVcYSkEkkR3t";

const std::string changed_key_refusal =
    "host key changed (reinstalled?); run `airstrap rejoin compute-node` on the controller to "
    "accept it";

class SiteState_ : public ::testing::Test {
  protected:
    fs::path file() const { return dir_.path() / "var/lib/airstrap/enrolled.json"; }
    fs::path rejoin_dir() const { return dir_.path() / "var/lib/airstrap/rejoin"; }
    SiteState load() const { return SiteState(file(), rejoin_dir()); }

    // What is on disk, once flushed, is whole and loads back to what the state holds.
    void expect_durable(SiteState& s) const {
        s.flush();
        json doc = json::parse(read_file(file(), 1 << 20));
        EXPECT_EQ(doc["format"], 1);
        EXPECT_EQ(load().nodes(), s.nodes());
        EXPECT_EQ(fs::status(file()).permissions() & fs::perms::all,
                  fs::perms::owner_read | fs::perms::owner_write);
        for (const auto& e : fs::directory_iterator(file().parent_path())) {
            auto name = e.path().filename().string();
            EXPECT_TRUE(name == "enrolled.json" || name == "rejoin") << "left behind: " << name;
        }
    }

    std::string load_error() const {
        try {
            load();
            ADD_FAILURE() << "a corrupt state loaded";
        } catch (const InputError& e) {
            return e.what();
        }
        return "";
    }

    void write(const std::string& text) const {
        fs::create_directories(file().parent_path());
        write_file_atomic(file(), text, 0600);
    }

    TempDir dir_{fs::temp_directory_path(), "site-state-test"};
};

json record(const std::string& generation_or_bad = "1") {
    return {{"host_keys", {ed25519}},
            {"enrolled", true},
            {"generation", json::parse(generation_or_bad)},
            {"address", "192.168.111.12"},
            {"last_refusal", ""},
            {"last_seen", 1700000000.25},
            {"steps", json::array()}};
}

}  // namespace

TEST_F(SiteState_, NewNodeIsPinnedWithSortedKeys) {
    SiteState s = load();
    EXPECT_FALSE(fs::exists(file()));
    EXPECT_EQ(s.roster_generation(), 0);
    EXPECT_EQ(s.pin("compute-node", {ed25519, ecdsa}, "192.168.111.12"), Pin::pinned_new);
    auto n = s.node("compute-node");
    ASSERT_TRUE(n);
    EXPECT_EQ(n->name, "compute-node");
    EXPECT_TRUE(n->enrolled);
    EXPECT_EQ(n->generation, 1);
    EXPECT_EQ(n->host_keys, (std::vector<std::string>{ecdsa, ed25519}));
    EXPECT_EQ(n->address, "192.168.111.12");
    EXPECT_GT(n->last_seen, 1.6e9);
    EXPECT_EQ(n->last_refusal, "");
    EXPECT_EQ(s.roster_generation(), 1);
    expect_durable(s);

    json doc = json::parse(read_file(file(), 1 << 20));
    const json& rec = doc["nodes"]["compute-node"];
    for (const char* key :
         {"host_keys", "enrolled", "generation", "address", "last_refusal", "last_seen", "steps"})
        EXPECT_TRUE(rec.contains(key)) << key;
}

TEST_F(SiteState_, SameKeysInAnyOrderChangeNothingButWhereAndWhen) {
    SiteState s = load();
    ASSERT_EQ(s.pin("compute-node", {ed25519, ecdsa}, "192.168.111.12"), Pin::pinned_new);
    s.refused("compute-node", "192.168.111.99", "connected from 192.168.111.99");
    EXPECT_EQ(s.pin("compute-node", {ecdsa, ed25519}, "192.168.111.12"), Pin::unchanged);
    auto n = s.node("compute-node");
    EXPECT_EQ(n->generation, 1);
    EXPECT_EQ(n->address, "192.168.111.12");
    EXPECT_EQ(n->last_refusal, "");
    EXPECT_EQ(s.roster_generation(), 1);
    expect_durable(s);
}

TEST_F(SiteState_, ChangedKeysAreRefusedAndSayHowToAcceptThem) {
    SiteState s = load();
    ASSERT_EQ(s.pin("compute-node", {ed25519}, "192.168.111.12"), Pin::pinned_new);
    EXPECT_EQ(s.pin("compute-node", {ed25519_reinstalled}, "192.168.111.12"),
              Pin::refused_changed_key);
    auto n = s.node("compute-node");
    EXPECT_TRUE(n->enrolled);
    EXPECT_EQ(n->host_keys, std::vector<std::string>{ed25519});  // the old pin stays
    EXPECT_EQ(n->generation, 1);
    EXPECT_EQ(n->last_refusal, changed_key_refusal);
    EXPECT_EQ(s.roster_generation(), 1);
    expect_durable(s);
    // A key added to the set is a change too.
    EXPECT_EQ(s.pin("compute-node", {ed25519, ecdsa}, "192.168.111.12"), Pin::refused_changed_key);
}

TEST_F(SiteState_, RejoinWindowAcceptsNewKeysOnceThenCloses) {
    SiteState s = load();
    ASSERT_EQ(s.pin("compute-node", {ed25519}, "192.168.111.12"), Pin::pinned_new);
    ASSERT_EQ(s.pin("compute-node", {ed25519_reinstalled}, "192.168.111.12"),
              Pin::refused_changed_key);
    EXPECT_FALSE(s.rejoin_open("compute-node"));

    // `airstrap rejoin compute-node`: another process, while the daemon runs.
    SiteState::open_rejoin(rejoin_dir(), "compute-node");
    EXPECT_TRUE(s.rejoin_open("compute-node"));
    EXPECT_FALSE(s.rejoin_open("network-node"));
    EXPECT_EQ(fs::status(rejoin_dir()).permissions() & fs::perms::all, fs::perms::owner_all);
    EXPECT_EQ(fs::status(rejoin_dir() / "compute-node").permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write);

    EXPECT_EQ(s.pin("compute-node", {ed25519_reinstalled}, "192.168.111.12"), Pin::rejoined);
    auto n = s.node("compute-node");
    EXPECT_EQ(n->host_keys, std::vector<std::string>{ed25519_reinstalled});
    EXPECT_EQ(n->generation, 2);
    EXPECT_EQ(n->last_refusal, "");
    EXPECT_EQ(s.roster_generation(), 2);
    EXPECT_FALSE(s.rejoin_open("compute-node"));
    EXPECT_FALSE(fs::exists(rejoin_dir() / "compute-node"));
    expect_durable(s);

    // The window is used up: the first install's key is refused now.
    EXPECT_EQ(s.pin("compute-node", {ed25519}, "192.168.111.12"), Pin::refused_changed_key);
    EXPECT_EQ(s.pin("compute-node", {ed25519_reinstalled}, "192.168.111.12"), Pin::unchanged);
}

TEST_F(SiteState_, OnlyAChangeOfKeysUsesUpAWindow) {
    SiteState s = load();
    SiteState::open_rejoin(rejoin_dir(), "compute-node", std::chrono::seconds(3600));
    SiteState::open_rejoin(rejoin_dir(), "network-node", std::chrono::seconds(3600));
    // A first enrolment and enrolments with the pinned keys leave the window open: a squatter
    // that pinned first cannot close the real node's window by enrolling again.
    EXPECT_EQ(s.pin("compute-node", {ed25519}, "192.168.111.12"), Pin::pinned_new);
    EXPECT_TRUE(s.rejoin_open("compute-node"));
    EXPECT_EQ(s.pin("network-node", {ecdsa}, "192.168.111.11"), Pin::pinned_new);
    EXPECT_EQ(s.pin("network-node", {ecdsa}, "192.168.111.11"), Pin::unchanged);
    EXPECT_EQ(s.pin("network-node", {ecdsa}, "192.168.111.11"), Pin::unchanged);
    EXPECT_TRUE(s.rejoin_open("network-node"));
    EXPECT_TRUE(fs::exists(rejoin_dir() / "network-node"));
    // The one change it admits closes it.
    EXPECT_EQ(s.pin("network-node", {ed25519}, "192.168.111.11"), Pin::rejoined);
    EXPECT_FALSE(s.rejoin_open("network-node"));
    EXPECT_EQ(s.pin("network-node", {ecdsa}, "192.168.111.11"), Pin::refused_changed_key);
    EXPECT_TRUE(s.rejoin_open("compute-node"));
}

TEST_F(SiteState_, AnExpiredWindowIsClosedAndTheRefusalSaysWhen) {
    SiteState s = load();
    ASSERT_EQ(s.pin("compute-node", {ed25519}, "192.168.111.12"), Pin::pinned_new);
    double before = unix_now();
    double expires =
        SiteState::open_rejoin(rejoin_dir(), "compute-node", std::chrono::seconds(3600));
    EXPECT_NEAR(expires, before + 3600, 5);
    json file = json::parse(read_file(rejoin_dir() / "compute-node", 4096));
    EXPECT_EQ(file["node"], "compute-node");
    EXPECT_EQ(file["expires"].get<double>(), expires);
    auto w = s.rejoin_window("compute-node");
    ASSERT_TRUE(w);
    EXPECT_EQ(w->expires, expires);
    EXPECT_TRUE(s.rejoin_open("compute-node"));

    // A window of no time at all is expired at once (the site's minimum is 60 s).
    expires = SiteState::open_rejoin(rejoin_dir(), "compute-node", std::chrono::seconds(0));
    EXPECT_FALSE(s.rejoin_open("compute-node"));
    EXPECT_EQ(s.pin("compute-node", {ed25519_reinstalled}, "192.168.111.66"),
              Pin::refused_window_expired);
    auto n = s.node("compute-node");
    EXPECT_EQ(n->host_keys, std::vector<std::string>{ed25519});
    EXPECT_EQ(n->generation, 1);
    EXPECT_EQ(n->address, "192.168.111.66");  // where the refused attempt came from
    EXPECT_EQ(n->last_refusal, "host key changed and its rejoin window expired at " +
                                   format_utc(expires) +
                                   "; run `airstrap rejoin compute-node` on the controller again");
    EXPECT_NE(n->last_refusal.find(" UTC; "), std::string::npos) << n->last_refusal;
    expect_durable(s);
    // The pinned keys still enrol, and a fresh window admits the new ones.
    EXPECT_EQ(s.pin("compute-node", {ed25519}, "192.168.111.12"), Pin::unchanged);
    SiteState::open_rejoin(rejoin_dir(), "compute-node", std::chrono::seconds(60));
    EXPECT_EQ(s.pin("compute-node", {ed25519_reinstalled}, "192.168.111.12"), Pin::rejoined);
}

TEST_F(SiteState_, AWindowWithoutAnExpiryIsClosed) {
    SiteState s = load();
    ASSERT_EQ(s.pin("compute-node", {ed25519}, "192.168.111.12"), Pin::pinned_new);
    fs::create_directories(rejoin_dir());
    // What an older airstrap wrote: no expiry.
    write_file_atomic(rejoin_dir() / "compute-node", R"({"node":"compute-node","opened":1})", 0600);
    EXPECT_FALSE(s.rejoin_open("compute-node"));
    EXPECT_EQ(s.pin("compute-node", {ed25519_reinstalled}, "192.168.111.12"),
              Pin::refused_window_expired);
    write_file_atomic(rejoin_dir() / "compute-node", "not json", 0600);
    EXPECT_FALSE(s.rejoin_open("compute-node"));
}

TEST(FormatUtc, ShowsTheTimeInUtc) {
    EXPECT_EQ(format_utc(0), "1970-01-01 00:00:00 UTC");
    EXPECT_EQ(format_utc(1796477400.75), "2026-12-05 13:30:00 UTC");
}

TEST_F(SiteState_, RejoinRefusesNamesThatAreNotOneFile) {
    for (const char* bad : {"", ".", "..", "../enrolled.json", "a/b"}) {
        EXPECT_THROW(SiteState::open_rejoin(rejoin_dir(), bad), InputError) << bad;
        EXPECT_FALSE(load().rejoin_open(bad));
    }
}

TEST_F(SiteState_, BeaconsRefusalsAndReportsAreKeptPerNode) {
    SiteState s = load();
    s.seen("network-node", "192.168.111.11");
    s.refused("compute-node", "192.168.111.12",
              "its beacons do not verify: the node's site secret differs");
    auto net = s.node("network-node");
    ASSERT_TRUE(net);
    EXPECT_FALSE(net->enrolled);
    EXPECT_EQ(net->generation, 0);
    EXPECT_EQ(net->address, "192.168.111.11");
    EXPECT_GT(net->last_seen, 0);
    auto comp = s.node("compute-node");
    EXPECT_FALSE(comp->enrolled);
    EXPECT_EQ(comp->last_refusal, "its beacons do not verify: the node's site secret differs");
    EXPECT_EQ(s.roster_generation(), 0);
    expect_durable(s);

    ASSERT_EQ(s.pin("network-node", {ecdsa}, "192.168.111.11"), Pin::pinned_new);
    StepRecord identity{"identity", StepState::done, "hostname network-node", 1, 10, 11};
    StepRecord checks{"checks", StepState::failed, "no repo \"airstrap\"", 3, 12, 13};
    s.refused("network-node", "192.168.111.66", "someone else's beacon");
    s.report("network-node", {identity, checks});
    net = s.node("network-node");
    EXPECT_EQ(net->steps, (std::vector<StepRecord>{identity, checks}));
    EXPECT_EQ(net->last_refusal, "");  // the report was proven with the pinned keys
    expect_durable(s);

    auto names = std::vector<std::string>{};
    for (const auto& n : s.nodes()) names.push_back(n.name);
    EXPECT_EQ(names, (std::vector<std::string>{"compute-node", "network-node"}));
    EXPECT_FALSE(s.node("controller-node"));
}

TEST_F(SiteState_, SurvivesARestart) {
    {
        SiteState s = load();
        s.pin("compute-node", {ed25519}, "192.168.111.12");
        s.pin("network-node", {ecdsa}, "192.168.111.11");
        s.report("compute-node", {{"identity", StepState::done, "old", 1, 1.0, 1.25}});
        SiteState::open_rejoin(rejoin_dir(), "compute-node");
        s.pin("compute-node", {ed25519_reinstalled}, "192.168.111.12");
        EXPECT_TRUE(s.node("compute-node")->steps.empty());  // the reinstalled node starts over
        s.report("compute-node", {{"identity", StepState::done, "ok", 1, 1.5, 2.25}});
    }
    SiteState s = load();
    EXPECT_EQ(s.roster_generation(), 3);
    EXPECT_EQ(s.node("compute-node")->host_keys, std::vector<std::string>{ed25519_reinstalled});
    ASSERT_EQ(s.node("compute-node")->steps.size(), 1u);
    EXPECT_EQ(s.node("compute-node")->steps[0].finished, 2.25);
    EXPECT_EQ(s.pin("compute-node", {ed25519_reinstalled}, "192.168.111.12"), Pin::unchanged);
    EXPECT_EQ(s.pin("network-node", {ed25519}, "192.168.111.11"), Pin::refused_changed_key);
}

TEST_F(SiteState_, LoadingNeverWrites) {
    write(json{{"format", 1}, {"nodes", {{"compute-node", record()}}}}.dump());
    std::string before = read_file(file(), 1 << 20);
    SiteState s = load();
    EXPECT_EQ(s.node("compute-node")->last_seen, 1700000000.25);
    EXPECT_EQ(read_file(file(), 1 << 20), before);
}

TEST_F(SiteState_, CorruptFileIsRefusedWithItsNameAndWhatToDo) {
    write("{\"format\": 1, \"nodes\": {\"compute-node\": ");
    std::string e = load_error();
    EXPECT_NE(e.find(file().string() + ": not a site state this airstrap can read ("),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("remove it to start over"), std::string::npos) << e;

    write(json{{"format", 1}, {"nodes", {{"compute-node", record("\"one\"")}}}}.dump());
    EXPECT_EQ(load_error(),
              file().string() +
                  ": not a site state this airstrap can read (nodes.compute-node.generation: "
                  "expected a whole number from 0); remove it to start over: every pin is "
                  "forgotten and each node must enrol again (`airstrap-firstboot run --rerun "
                  "enrol` on it)");

    auto bad_step = record();
    bad_step["steps"] = {{{"name", "identity"}, {"state", "done"}}};
    write(json{{"format", 1}, {"nodes", {{"compute-node", bad_step}}}}.dump());
    EXPECT_NE(load_error().find("nodes.compute-node.steps[0]: missing key 'detail'"),
              std::string::npos);

    write(json{{"format", 7}, {"nodes", json::object()}}.dump());
    EXPECT_NE(load_error().find("format 7"), std::string::npos);

    write(json{{"format", 1}, {"nodes", json::array()}}.dump());
    EXPECT_NE(load_error().find("nodes: expected an object"), std::string::npos);
}

TEST_F(SiteState_, ConcurrentCallsKeepTheFileWholeAndCurrent) {
    SiteState s = load();
    std::vector<std::thread> threads;
    std::atomic<int> errors{0};
    for (int t = 0; t < 6; ++t) {
        threads.emplace_back([&, t] {
            std::string node = "compute" + std::to_string(t % 3);
            std::string address = "192.168.111." + std::to_string(20 + t);
            try {
                for (int i = 0; i < 15; ++i) {
                    switch (i % 4) {
                        case 0:
                            s.pin(node, {ed25519}, address);
                            break;
                        case 1:
                            s.seen(node, address);
                            break;
                        case 2:
                            s.report(node,
                                     {{"identity", StepState::done, std::to_string(i), t, 0, 0}});
                            break;
                        case 3:
                            s.refused(node, address, "thread " + std::to_string(t));
                            break;
                    }
                    (void)s.nodes();
                    (void)s.roster_generation();
                }
            } catch (const std::exception& e) {
                ADD_FAILURE() << e.what();
                ++errors;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(errors, 0);
    EXPECT_EQ(s.nodes().size(), 3u);
    EXPECT_EQ(s.roster_generation(), 3);  // each pinned once, then unchanged
    expect_durable(s);
}

// Beacons and reports are coalesced (a 50-node site sends many a second): within a second of
// the last save they wait in memory for flush(); pins never wait.
TEST_F(SiteState_, BeaconsAndReportsAreSavedAtMostOnceASecondPinsAtOnce) {
    SiteState s = load();
    s.seen("compute-node", "192.168.111.12");  // the first change is saved
    std::string first = read_file(file(), 1 << 20);
    s.report("compute-node", {{"identity", StepState::done, "ok", 1, 1.5, 2.25}});
    EXPECT_EQ(read_file(file(), 1 << 20), first);         // pending
    EXPECT_EQ(s.node("compute-node")->steps.size(), 1u);  // but known in memory
    s.flush();
    EXPECT_EQ(load().node("compute-node")->steps.size(), 1u);
    s.pin("network-node", {ecdsa}, "192.168.111.11");
    EXPECT_TRUE(load().node("network-node")->enrolled);  // at once
}
