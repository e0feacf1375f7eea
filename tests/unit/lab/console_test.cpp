#include "lab/console.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/error.hpp"

namespace airstrap::lab {
namespace {

const std::vector<std::string> controller_plan{
    "identity", "host_keys",   "root_key",   "checks",  "chrony",    "chrony_wait",
    "barrier",  "known_hosts", "verify_ssh", "answers", "packstack", "verify_token"};
const std::vector<std::string> node_plan{"identity",       "checks", "host_keys",  "enrol",
                                         "authorized_key", "chrony", "chrony_wait"};

std::vector<std::string> lines_of(std::string_view bytes, std::size_t max = 4096) {
    LineSplitter s(max);
    std::vector<std::string> out;
    s.feed(bytes, [&](const std::string& l) { out.push_back(l); });
    s.finish([&](const std::string& l) { out.push_back(l); });
    return out;
}

std::optional<ConsoleEvent> parse(std::string_view line, std::string_view node = "controller-node",
                                  const std::vector<std::string>& plan = controller_plan) {
    return parse_console_line(line, node, plan);
}

TEST(LineSplitter, CarriageReturnsAndEscapesGo) {
    auto l = lines_of("a\r\n\x1b[0;32m  OK  \x1b[0m] Started x\r\n\x1b]0;title\x07tail\nend");
    ASSERT_EQ(l.size(), 4u);
    EXPECT_EQ(l[0], "a");
    EXPECT_EQ(l[1], "  OK  ] Started x");
    EXPECT_EQ(l[2], "tail");
    EXPECT_EQ(l[3], "end");
}

TEST(LineSplitter, PartialLinesJoinAcrossFeeds) {
    LineSplitter s;
    std::vector<std::string> out;
    auto add = [&](const std::string& l) { out.push_back(l); };
    s.feed("2026-12-06T02:05:17.1", add);
    s.feed("23Z controller-node: chr", add);
    EXPECT_TRUE(out.empty());
    s.feed("ony: ok\n", add);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], "2026-12-06T02:05:17.123Z controller-node: chrony: ok");
}

TEST(LineSplitter, EscapeSplitAcrossFeeds) {
    LineSplitter s;
    std::vector<std::string> out;
    auto add = [&](const std::string& l) { out.push_back(l); };
    s.feed("x\x1b", add);
    s.feed("[1", add);
    s.feed(";2mY\n", add);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], "xY");
}

TEST(LineSplitter, VeryLongLineIsCut) {
    std::string bytes(1 << 20, 'a');
    bytes += "\nnext\n";
    auto l = lines_of(bytes, 100);
    ASSERT_EQ(l.size(), 2u);
    EXPECT_EQ(l[0].size(), 100u);
    EXPECT_EQ(l[1], "next");
}

TEST(LineSplitter, ControlBytesDropped) {
    auto l = lines_of(std::string("a\0b\x07\x08\tc\n", 8));
    ASSERT_EQ(l.size(), 1u);
    EXPECT_EQ(l[0], "ab c");
}

TEST(Parse, StepDoneWithAnyPrefix) {
    for (std::string prefix :
         {"", "[airstrap-firstboot] ", "[  OK  ] junk ", "airstrap-firstboot[812]: "}) {
        auto e =
            parse(prefix + "2026-12-06T02:05:17.123Z controller-node: chrony: chrony.conf written");
        ASSERT_TRUE(e) << prefix;
        EXPECT_EQ(e->kind, EventKind::step_done);
        EXPECT_EQ(e->step, "chrony");
        EXPECT_EQ(e->detail, "chrony.conf written");
    }
}

TEST(Parse, StartedRetryingGaveUpDone) {
    auto e = parse(
        "2026-12-06T02:05:17.123Z controller-node: starting as the controller of site lab3 "
        "(192.168.111.10)");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->kind, EventKind::started);
    e = parse(
        "2026-12-06T02:05:17.123Z controller-node: warning: packstack failed: exit 1: boom "
        "(retrying)");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->kind, EventKind::step_retrying);
    EXPECT_EQ(e->step, "packstack");
    EXPECT_EQ(e->detail, "exit 1: boom");
    e = parse(
        "2026-12-06T02:05:17.123Z controller-node: warning: packstack failed 2 times; fix the "
        "cause (airstrap status says why) and restart airstrap-firstboot to run it again");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->kind, EventKind::step_gave_up);
    EXPECT_EQ(e->step, "packstack");
    e = parse(
        "2026-12-06T02:05:17.123Z controller-node: all steps done: sessions=3 frames=9 beacons=1");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->kind, EventKind::all_done);
    EXPECT_EQ(e->detail, "sessions=3 frames=9 beacons=1");
}

TEST(Parse, AnotherNodesNameIsNotThisNode) {
    EXPECT_FALSE(parse("2026-12-06T02:05:17.123Z network-node: chrony: ok"));
    EXPECT_FALSE(parse("2026-12-06T02:05:17.123Z controller-node2: chrony: ok"));
    EXPECT_FALSE(parse("2026-12-06T02:05:17.123Z controller-nod: chrony: ok"));
    // A line about this node that names another one in its text is this node's.
    auto e = parse("2026-12-06T02:05:17.123Z controller-node: barrier: network-node: chrony: ok");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->step, "barrier");
    // The other node's stamp first, this node's later in the same line.
    e = parse(
        "2026-12-06T02:05:17.123Z network-node: x 2026-12-06T02:05:18.000Z controller-node: "
        "answers: ok");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->step, "answers");
}

TEST(Parse, NotAStepOrMalformed) {
    EXPECT_FALSE(parse("2026-12-06T02:05:17.123Z controller-node: enrolled network-node: ok"));
    EXPECT_FALSE(parse("2026-12-06T02:05:17.123Z controller-node: chrony:"));
    EXPECT_FALSE(parse("2026-12-06T02:05:17.123Z controller-node: chrony_wait"));
    EXPECT_FALSE(parse("2026-12-06 02:05:17.123Z controller-node: chrony: ok"));
    EXPECT_FALSE(parse("2026-12-06T02:05:17Z controller-node: chrony: ok"));
    EXPECT_FALSE(parse("26-12-06T02:05:17.123Z controller-node: chrony: ok"));
    EXPECT_FALSE(parse("2026-12-06T02:05:17.123Z controller-node: warning: chrony: x"));
    EXPECT_FALSE(parse("2026-12-06T02:05:17.123Z controller-node: warning: chrony failed: x"));
    EXPECT_FALSE(
        parse("2026-12-06T02:05:17.123Z controller-node: warning: chrony failed many times; x"));
    EXPECT_FALSE(parse(""));
    EXPECT_FALSE(parse("2026-12-06T02:05:17.123Z "));
    EXPECT_FALSE(parse("2026-12-06T02:05:17.123Z controller-node: chrony: ok", ""));
    // A node step is not a controller step.
    EXPECT_FALSE(parse("2026-12-06T02:05:17.123Z controller-node: enrol: ok"));
}

TEST(Parse, LongHostileLine) {
    std::string junk(100000, '2');
    EXPECT_FALSE(parse(junk));
    auto e = parse(junk + "2026-12-06T02:05:17.123Z controller-node: chrony: ok");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->step, "chrony");
}

TEST(Parse, SystemUpMarkers) {
    for (std::string line : {"fixture-init: booted controller-node.lab.local (kernel 6.1)",
                             "[  OK  ] Reached target network.target - Network.",
                             "[  OK  ] Reached target Multi-User System."}) {
        auto e = parse(line);
        ASSERT_TRUE(e) << line;
        EXPECT_EQ(e->kind, EventKind::system_up);
    }
    EXPECT_FALSE(parse("[  OK  ] Reached target initrd.target - Initrd Default Target."));
}

TEST(Progress, Phases) {
    NodeProgress p{"network-node", node_plan, false};
    EXPECT_EQ(p.current(), "");
    EXPECT_EQ(p.apply({EventKind::system_up, "", ""}), "boot → system up");
    EXPECT_EQ(p.apply({EventKind::system_up, "", ""}), "");
    EXPECT_EQ(p.apply({EventKind::started, "", "starting as the network of site lab3"}),
              "system up → first boot");
    EXPECT_EQ(p.current(), "identity");
    EXPECT_EQ(p.apply({EventKind::step_done, "identity", "host name"}), "identity → done");
    EXPECT_EQ(p.apply({EventKind::step_done, "identity", "host name"}), "");
    EXPECT_EQ(p.current(), "checks");
    EXPECT_EQ(p.apply({EventKind::step_retrying, "checks", "no repo"}),
              "checks → failed: no repo (retrying)");
    EXPECT_EQ(p.retrying, "checks");
    p.apply({EventKind::step_done, "checks", "ok"});
    EXPECT_EQ(p.retrying, "");
    EXPECT_EQ(p.current(), "host_keys");
    EXPECT_EQ(p.apply({EventKind::all_done, "", ""}), "first boot → done");
    EXPECT_EQ(p.phase, Phase::done);
}

TEST(Progress, StepBeforeStartLineStillCounts) {
    NodeProgress p{"network-node", node_plan, false};
    EXPECT_EQ(p.apply({EventKind::step_done, "identity", "x"}),
              "boot → first boot; identity → done");
    EXPECT_EQ(p.phase, Phase::first_boot);
}

TEST(Progress, GaveUpKeepsTheReason) {
    NodeProgress p{"controller-node", controller_plan, true};
    p.apply({EventKind::started, "", ""});
    p.apply({EventKind::step_retrying, "packstack", "exit 1: Error: x"});
    EXPECT_EQ(p.apply({EventKind::step_gave_up, "packstack", "packstack failed 2 times; fix"}),
              "packstack → gave up: exit 1: Error: x");
    EXPECT_EQ(p.phase, Phase::failed);
}

std::vector<NodeProgress> site() {
    return {{"controller-node", controller_plan, true},
            {"network-node", node_plan, false},
            {"compute-node", node_plan, false}};
}

TEST(Judge, ControllerDone) {
    auto s = site();
    EXPECT_EQ(judge(s, std::nullopt).state, Verdict::State::running);
    s[1].apply({EventKind::all_done, "", ""});
    s[2].apply({EventKind::all_done, "", ""});
    EXPECT_EQ(judge(s, std::nullopt).state, Verdict::State::running);
    s[0].apply({EventKind::all_done, "", ""});
    EXPECT_EQ(judge(s, std::nullopt).state, Verdict::State::passed);
}

TEST(Judge, UntilEveryNodeThatRunsIt) {
    auto s = site();
    s[0].apply({EventKind::step_done, "packstack", "ok"});
    auto v = judge(s, std::string("packstack"));
    EXPECT_EQ(v.state, Verdict::State::passed);
    EXPECT_EQ(v.message, "packstack done on controller-node");
    s[1].apply({EventKind::step_done, "chrony_wait", "ok"});
    s[0].apply({EventKind::step_done, "chrony_wait", "ok"});
    EXPECT_EQ(judge(s, std::string("chrony_wait")).state, Verdict::State::running);
    s[2].apply({EventKind::step_done, "chrony_wait", "ok"});
    EXPECT_EQ(judge(s, std::string("chrony_wait")).state, Verdict::State::passed);
}

TEST(Judge, GaveUpFails) {
    auto s = site();
    s[0].apply({EventKind::step_retrying, "packstack", "exit 1"});
    s[0].apply({EventKind::step_gave_up, "packstack", "x"});
    auto v = judge(s, std::string("verify_token"));
    EXPECT_EQ(v.state, Verdict::State::failed);
    EXPECT_EQ(v.message, "controller-node: step packstack gave up: exit 1");
}

TEST(Until, UnknownStepListsTheSteps) {
    auto s = site();
    EXPECT_NO_THROW(check_until("packstack", s));
    EXPECT_NO_THROW(check_until("enrol", s));
    try {
        check_until("packstak", s);
        FAIL();
    } catch (const InputError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "--until: unknown step 'packstak' (did you mean 'packstack'?); the first-boot "
                  "steps of this site are: identity, host_keys, root_key, checks, chrony, "
                  "chrony_wait, barrier, known_hosts, verify_ssh, answers, packstack, "
                  "verify_token, enrol, authorized_key");
    }
}

}  // namespace
}  // namespace airstrap::lab

namespace airstrap::lab {
namespace {

// A captured console (tests/unit/lab/data/README.md), fed in odd-sized pieces.
TEST(Replay, FixtureControllerConsole) {
    std::ifstream in(std::string(AIRSTRAP_SOURCE_DIR) +
                         "/tests/unit/lab/data/fixture-controller-node.serial.log",
                     std::ios::binary);
    ASSERT_TRUE(in);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string bytes = ss.str();
    std::vector<std::string> plan{
        "identity",     "host_keys",     "root_key",       "checks",
        "chrony",       "chrony_wait",   "barrier",        "known_hosts",
        "verify_ssh",   "answers",       "packstack",      "verify_token",
        "verify_users", "verify_images", "verify_compute", "verify_network"};
    NodeProgress p{"controller-node", plan, true};
    std::vector<std::string> changes;
    LineSplitter splitter;
    for (std::size_t at = 0; at < bytes.size(); at += 37) {
        splitter.feed(std::string_view(bytes).substr(at, 37), [&](const std::string& line) {
            if (auto e = parse_console_line(line, p.node, p.plan)) {
                std::string c = p.apply(*e);
                if (!c.empty()) changes.push_back(c);
            }
        });
    }
    ASSERT_GE(changes.size(), 3u);
    EXPECT_EQ(changes[0], "boot → system up");
    EXPECT_EQ(changes[1], "system up → first boot");
    EXPECT_EQ(changes[2], "identity → done");
    EXPECT_EQ(p.done, (std::vector<std::string>{"identity", "host_keys", "root_key", "checks",
                                                "chrony", "chrony_wait", "barrier", "known_hosts",
                                                "verify_ssh", "answers", "packstack"}));
    EXPECT_EQ(p.phase, Phase::first_boot);
    EXPECT_EQ(p.current(), "verify_token");
    EXPECT_EQ(p.retrying, "verify_token");
    EXPECT_EQ(judge({p}, std::string("packstack")).state, Verdict::State::passed);
    EXPECT_EQ(judge({p}, std::nullopt).state, Verdict::State::running);
}

}  // namespace
}  // namespace airstrap::lab
