// The cabling check against a recording runner: which links a node of the rack example probes
// (its VLAN devices, each network's MTU), how ping's answers become ok / MTU / unreachable /
// error, the journal detail and its parse back, and the controller's matrix in the status.
#include "firstboot/cabling.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "common/error.hpp"
#include "common/text.hpp"
#include "firstboot/status.hpp"
#include "site/site_file.hpp"
#include "site/site_json.hpp"
#include "tests/unit/firstboot/fake_runner.hpp"
#include "tests/unit/test_support.hpp"

using namespace airstrap;
using namespace airstrap::firstboot;
using airstrap::firstboot::testing::FakeRunner;

namespace {

// An example site as its nodes read it (site.yaml → site.json).
node::Site as_node_site(const site::SiteFile& file) {
    EXPECT_TRUE(file.ok()) << file.diag().render();
    return node::parse_site_json(
        node::site_json_text(site::node_site(file.site(), crypto::Bytes(32, 0x42))));
}
node::Site rack() {
    return as_node_site(*testutil::rack_file());
}
node::Site lab3() {
    return as_node_site(*testutil::lab3_file());
}

std::string joined(const std::vector<std::string>& argv) {
    return text::join(argv, " ");
}

// ping's answers per destination and size: the rule's prefix cannot see the address (it is
// last), so the effect-free rules match on the whole command.
void answer(FakeRunner& r, const LinkProbe& p, int full, int small, const std::string& out = "") {
    r.on(joined(full_size_ping(p)), full, out);
    r.on(joined(small_ping(p)), small, out);
}

const LinkProbe* find(const std::vector<LinkProbe>& links, const std::string& network,
                      const std::string& peer) {
    auto it = std::find_if(links.begin(), links.end(), [&](const LinkProbe& l) {
        return l.network == network && l.peer == peer;
    });
    return it == links.end() ? nullptr : &*it;
}

TEST(Cabling, ARackComputeNodeProbesEveryPeerOnEachNetworkItIsAddressedOn) {
    node::Site rack = ::rack();
    auto links = links_of(rack, *rack.node("cmp1"));
    // management and tenant: the six other nodes; storage: ctl1 and cmp2–4 (the network nodes
    // are not on it); external: cmp1 has no address there.
    ASSERT_EQ(links.size(), 6u + 4u + 6u);
    EXPECT_EQ(
        std::count_if(links.begin(), links.end(), [](auto& l) { return l.network == "external"; }),
        0);
    EXPECT_EQ(find(links, "storage", "net1"), nullptr);
    const LinkProbe* s = find(links, "storage", "cmp3");
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->device, "bond0.122");
    EXPECT_EQ(s->address, "10.20.2.23");
    EXPECT_EQ(s->mtu, 9000);
    EXPECT_EQ(joined(full_size_ping(*s)),
              "ping -n -q -c 2 -i 0.2 -W 1 -M do -s 8972 -I bond0.122 10.20.2.23");
    EXPECT_EQ(joined(small_ping(*s)), "ping -n -q -c 2 -i 0.2 -W 1 -I bond0.122 10.20.2.23");
    const LinkProbe* m = find(links, "management", "ctl1");
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->device, "bond0.120");
    EXPECT_EQ(joined(full_size_ping(*m)),
              "ping -n -q -c 2 -i 0.2 -W 1 -M do -s 1472 -I bond0.120 10.20.0.10");
}

TEST(Cabling, AllLinksUpPassesWithOneFullSizeProbeEach) {
    node::Site rack = ::rack();
    FakeRunner r;
    r.on("ping", 0);
    auto links = links_of(rack, *rack.node("ctl1"));
    auto results = probe_links(r, links);
    EXPECT_TRUE(all_ok(results));
    EXPECT_EQ(r.calls.size(), links.size());  // no small probe when the big one passed
    for (const auto& c : r.commands()) EXPECT_NE(c.find(" -M do -s "), std::string::npos) << c;
    std::string d = links_detail(results);
    EXPECT_EQ(d,
              "management: ok, 6 peers from bond0.120 (VLAN 120) at MTU 1500; "
              "storage: ok, 4 peers from bond0.122 (VLAN 122) at MTU 9000; "
              "tenant: ok, 6 peers from bond0.121 (VLAN 121) at MTU 9000");
    auto cells = links_from_detail(d);
    ASSERT_EQ(cells.size(), 3u);
    EXPECT_EQ(cells[1].first, "storage");
    EXPECT_EQ(cells[1].second, "ok, 4 peers from bond0.122 (VLAN 122) at MTU 9000");
}

TEST(Cabling, AMissingVlanAndAnMtuMismatchAreToldApartAndNamed) {
    node::Site rack = ::rack();
    auto links = links_of(rack, *rack.node("cmp1"));
    FakeRunner r;
    r.on("ping", 0);
    // tenant VLAN 121 missing towards cmp2: nothing passes; storage to cmp4 at 1500 only.
    answer(r, *find(links, "tenant", "cmp2"), 1, 1);
    answer(r, *find(links, "storage", "cmp4"), 1, 0);
    auto results = probe_links(r, links);
    EXPECT_FALSE(all_ok(results));
    EXPECT_EQ(r.calls.size(), links.size() + 2);  // a small probe for each failed link only
    std::string d = links_detail(results);
    // Broken networks first, in the site's order; each names the device and VLAN, the peer and
    // its address, and says what to check.
    EXPECT_EQ(d,
              "storage: from bond0.122 (VLAN 122), 1 of 4 broken: cmp4 10.20.2.24 answers small "
              "pings but not 9000-byte ones that must not fragment (MTU: set 9000 on every "
              "switch port and node device of storage); "
              "tenant: from bond0.121 (VLAN 121), 1 of 6 broken: cmp2 10.20.1.22 unreachable "
              "(unreachable: is VLAN 121 allowed on both switch ports, is each cable in its "
              "port, is the peer up?); "
              "management: ok, 6 peers from bond0.120 (VLAN 120) at MTU 1500");
    auto cells = links_from_detail(d);
    ASSERT_EQ(cells.size(), 3u);
    EXPECT_EQ(cells[0].first, "storage");
    EXPECT_EQ(cells[1].first, "tenant");
    EXPECT_EQ(cells[2].first, "management");

    // The step fails with that text (the daemon retries it; the barrier shows it).
    FakeRunner again;
    again.on("ping", 0);
    answer(again, *find(links, "tenant", "cmp2"), 1, 1);
    try {
        auto results2 = probe_links(again, links);
        if (!all_ok(results2)) throw Error(links_detail(results2));
        FAIL() << "a broken link passed";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("cmp2 10.20.1.22 unreachable"), std::string::npos);
    }
}

TEST(Cabling, PingThatCannotSendIsAnErrorWithItsReasonNotAnUnreachablePeer) {
    node::Site lab = lab3();
    auto links = links_of(lab, *lab.node("compute-node"));
    ASSERT_FALSE(links.empty());
    FakeRunner r;
    r.on("ping", 2, "ping: SO_BINDTODEVICE ens32: No such device; check\n");
    auto results = probe_links(r, links);
    for (const auto& x : results) {
        EXPECT_EQ(x.state, LinkState::error);
        EXPECT_EQ(x.why, "ping: SO_BINDTODEVICE ens32: No such device, check");  // no ';'
    }
    // A ';' from ping's output cannot split a cell in two.
    auto cells = links_from_detail(links_detail(results));
    EXPECT_EQ(cells.size(), 1u);
    // No ping at all (the runner cannot start it): exit 127, an error too.
    struct NoPing : CommandRunner {
        ProcessResult run(const std::vector<std::string>&) override {
            throw SystemError("cannot run ping", ENOENT);
        }
    } none;
    for (const auto& x : probe_links(none, links)) EXPECT_EQ(x.state, LinkState::error);
}

TEST(Cabling, ADetailNotInTheFormGivesNoCells) {
    EXPECT_TRUE(links_from_detail("").empty());
    EXPECT_TRUE(links_from_detail("stopped").empty());
    EXPECT_TRUE(links_from_detail("management: ok; : x").empty());
}

TEST(Cabling, TheControllersStatusShowsAMatrixOfLinks) {
    node::Site rack = ::rack();
    auto cmp1 = links_of(rack, *rack.node("cmp1"));
    FakeRunner r;
    r.on("ping", 0);
    answer(r, *find(cmp1, "tenant", "cmp2"), 1, 1);
    std::string broken = links_detail(probe_links(r, cmp1));
    FakeRunner fine;
    fine.on("ping", 0);
    std::string ok = links_detail(probe_links(fine, links_of(rack, *rack.node("net1"))));

    std::vector<NodeRecord> records;
    auto record = [&](const std::string& name, StepState state, const std::string& detail) {
        NodeRecord rec;
        rec.name = name;
        rec.enrolled = true;
        rec.last_seen = 1;
        StepRecord enrol{"enrol", StepState::done, "enrolled", 1, 0, 0};
        StepRecord cabling{"cabling", state, detail, 1, 0, 0};
        rec.steps = {enrol, cabling};
        records.push_back(rec);
    };
    record("cmp1", StepState::failed, broken);
    record("net1", StepState::done, ok);
    // A compromised node's report: a network the site lacks, a terminal escape in a cell.
    record("cmp3", StepState::done, "bogus: x; tenant: ok\x1b]0;owned\x07");
    std::string text = render_site_status(rack, records, {});
    auto at = text.find("links (each node's cabling step");
    ASSERT_NE(at, std::string::npos) << text;
    std::string matrix = text.substr(at);
    // external: no node is addressed on it (the network nodes' bridge has no address).
    EXPECT_NE(matrix.find("NODE  management"), std::string::npos) << matrix;
    EXPECT_EQ(matrix.find("external"), std::string::npos) << matrix;
    // cmp1's tenant cell names the broken link without the advice; net1 is ok where it is
    // addressed and "-" on storage (not on it); nodes not checked yet show "-".
    auto line_of = [&](const std::string& node) {
        auto b = matrix.find("\n" + node + " ");
        EXPECT_NE(b, std::string::npos) << node << "\n" << matrix;
        return matrix.substr(b + 1, matrix.find('\n', b + 1) - b - 1);
    };
    std::string c1 = line_of("cmp1");
    EXPECT_NE(c1.find("from bond0.121 (VLAN 121), 1 of 6 broken: cmp2 10.20.1.22 unreachable"),
              std::string::npos)
        << c1;
    EXPECT_EQ(c1.find("is each cable"), std::string::npos) << c1;
    auto words = text::split(line_of("net1"), ' ');
    words.erase(std::remove(words.begin(), words.end(), ""), words.end());
    EXPECT_EQ(words, (std::vector<std::string>{"net1", "ok", "-", "ok"}));
    words = text::split(line_of("cmp4"), ' ');
    words.erase(std::remove(words.begin(), words.end(), ""), words.end());
    EXPECT_EQ(words, (std::vector<std::string>{"cmp4", "-", "-", "-"}));
    std::string c3 = line_of("cmp3");
    EXPECT_EQ(c3.find('\x1b'), std::string::npos) << c3;
    EXPECT_EQ(matrix.find("bogus"), std::string::npos) << matrix;
    // The JSON has the cells whole, for the site's networks only.
    auto j = site_status_json(rack, records, {});
    EXPECT_EQ(j["links"]["cmp1"]["management"],
              "ok, 6 peers from bond0.120 (VLAN 120) at MTU 1500");
    EXPECT_FALSE(j["links"].contains("cmp4"));
    EXPECT_FALSE(j["links"]["cmp3"].contains("bogus"));
    EXPECT_TRUE(j["links"]["cmp3"].contains("tenant"));
}

}  // namespace
