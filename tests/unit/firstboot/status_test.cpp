// What `airstrap status` prints for the seed's lab (examples/lab3): a node's own steps, the
// controller's table of the whole site, the JSON for machines, and the exit code.
#include "firstboot/status.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;
using namespace airstrap;
using namespace airstrap::firstboot;
using nlohmann::json;

namespace {

node::Site lab3() {
    node::Site s;
    s.site = {"lab3", "lab.local", "el7", "UTC"};
    s.networks["management"] = {"management", "192.168.111.0/24", std::nullopt, {}, 1500};
    s.networks["external"] = {"external", "192.168.222.0/24", std::nullopt, {}, 1500};
    auto node = [](std::string name, node::Role role, std::string address, bool nested) {
        return node::Node{
            std::move(name), role, nested, {{"ens32", "", "management", std::move(address), ""}}};
    };
    s.nodes = {node("controller-node", node::Role::controller, "192.168.111.10", false),
               node("network-node", node::Role::network, "192.168.111.11", false),
               node("compute-node", node::Role::compute, "192.168.111.12", true)};
    s.nodes[1].interfaces.push_back({"ens34", "", "external", std::nullopt, "br-ex"});
    return s;
}

StepRecord step(const std::string& name, StepState state, const std::string& detail = "",
                int attempts = 1) {
    return {name, state, detail, attempts, 1700000000, 1700000001};
}

std::vector<StepRecord> all_done(const std::vector<std::string>& names) {
    std::vector<StepRecord> out;
    for (const auto& n : names) out.push_back(step(n, StepState::done, n + " ok"));
    return out;
}

const std::vector<std::string> controller_plan{"identity", "checks",      "host_keys",
                                               "root_key", "chrony",      "chrony_wait",
                                               "barrier",  "known_hosts", "verify_ssh"};
const std::vector<std::string> network_plan{"identity",     "checks",     "host_keys",
                                            "external_nic", "enrol",      "authorized_key",
                                            "chrony",       "chrony_wait"};

// The controller waiting at the barrier.
std::vector<StepRecord> controller_at_barrier() {
    auto steps = all_done(controller_plan);
    steps[6] = step("barrier", StepState::running, "", 1);
    steps[7] = step("known_hosts", StepState::pending, "", 0);
    steps[8] = step("verify_ssh", StepState::pending, "", 0);
    return steps;
}

NodeRecord enrolled(const std::string& name, const std::string& address,
                    std::vector<StepRecord> steps) {
    NodeRecord r;
    r.name = name;
    r.host_keys = {"ssh-ed25519 AAAA"};
    r.enrolled = true;
    r.generation = 1;
    r.address = address;
    r.last_seen = 1700000100;
    r.steps = std::move(steps);
    return r;
}

NodeStatus row(const std::vector<NodeStatus>& rows, const std::string& name) {
    for (const auto& r : rows)
        if (r.name == name) return r;
    ADD_FAILURE() << "no row " << name;
    return {};
}

}  // namespace

TEST(Status, OverallOfSteps) {
    EXPECT_EQ(overall_of({}), Overall::in_progress);
    EXPECT_EQ(overall_of(all_done({"a", "b"})), Overall::done);
    EXPECT_EQ(overall_of({step("a", StepState::done), step("b", StepState::pending)}),
              Overall::in_progress);
    EXPECT_EQ(overall_of({step("a", StepState::running)}), Overall::in_progress);
    EXPECT_EQ(overall_of({step("a", StepState::failed), step("b", StepState::pending)}),
              Overall::failed);
}

TEST(Status, ExitCodes) {
    EXPECT_EQ(exit_code(Overall::done), ExitCode::ok);
    EXPECT_EQ(exit_code(Overall::failed), ExitCode::failure);
    EXPECT_EQ(exit_code(Overall::in_progress), ExitCode::in_progress);
    EXPECT_STREQ(to_string(Overall::in_progress), "in_progress");
    EXPECT_STREQ(to_string(NodeState::missing), "missing");
}

TEST(Status, NodeTable) {
    std::vector<StepRecord> steps{
        step("identity", StepState::done, "hostname compute-node; /etc/hosts names 3 nodes"),
        step("checks", StepState::done, "repo airstrap answers"),
        step("host_keys", StepState::done, "SHA256:abc (ED25519)"),
        step("compute", StepState::done, "nested virtualization on"),
        step("enrol", StepState::failed,
             "controller 192.168.111.10:7447 not answering yet:\nconnection refused", 12),
        step("authorized_key", StepState::pending, "", 0),
    };
    EXPECT_EQ(render_node_status("compute-node", steps),
              "compute-node: failed (4/6 steps done)\n"
              "\n"
              "STEP            STATE    ATTEMPTS  DETAIL\n"
              "identity        done     1         hostname compute-node; /etc/hosts names 3 "
              "nodes\n"
              "checks          done     1         repo airstrap answers\n"
              "host_keys       done     1         SHA256:abc (ED25519)\n"
              "compute         done     1         nested virtualization on\n"
              "enrol           failed   12        controller 192.168.111.10:7447 not answering "
              "yet: connection refused\n"
              "authorized_key  pending  0\n");
    EXPECT_EQ(render_node_status("compute-node", {}),
              "compute-node: in progress (no steps recorded yet)\n");
    EXPECT_EQ(render_node_status("compute-node", all_done({"identity"})),
              "compute-node: done (1/1 steps done)\n"
              "\n"
              "STEP      STATE  ATTEMPTS  DETAIL\n"
              "identity  done   1         identity ok\n");
}

TEST(Status, TerminalControlsInDetailsAreShownAsSpaces) {
    auto text = render_node_status("compute-node", {step("checks", StepState::failed,
                                                         "a\x1b[2Jb\r\tc\x7f\xc2\x9b"
                                                         "d")});
    EXPECT_NE(text.find("a [2Jb  c  d\n"), std::string::npos) << text;
    EXPECT_EQ(text.find('\x1b'), std::string::npos);
}

TEST(Status, SiteTableWhileTheControllerWaitsAtTheBarrier) {
    std::vector<NodeRecord> records{
        enrolled("network-node", "192.168.111.11", all_done(network_plan))};
    EXPECT_EQ(render_site_status(lab3(), records, controller_at_barrier()),
              "site lab3: in progress (1/3 nodes done)\n"
              "\n"
              "NODE             ROLE        ADDRESS         ENROLLED  STEPS     STATE        NOTE\n"
              "controller-node  controller  192.168.111.10  -         6/9 done  in progress  "
              "running barrier\n"
              "network-node     network     192.168.111.11  yes       8/8 done  done\n"
              "compute-node     compute     192.168.111.12  no        -         missing      "
              "never heard from\n"
              "\n"
              "controller-node: in progress (6/9 steps done)\n"
              "\n"
              "STEP         STATE    ATTEMPTS  DETAIL\n"
              "identity     done     1         identity ok\n"
              "checks       done     1         checks ok\n"
              "host_keys    done     1         host_keys ok\n"
              "root_key     done     1         root_key ok\n"
              "chrony       done     1         chrony ok\n"
              "chrony_wait  done     1         chrony_wait ok\n"
              "barrier      running  1\n"
              "known_hosts  pending  0\n"
              "verify_ssh   pending  0\n");
    // Never heard from is not a failure (yet): the barrier step decides when to give up.
    EXPECT_EQ(site_overall(lab3(), records, controller_at_barrier()), Overall::in_progress);
}

TEST(Status, EachWayANodeCanBeShort) {
    node::Site site = lab3();
    auto controller = controller_at_barrier();

    NodeRecord heard;
    heard.name = "compute-node";
    heard.address = "192.168.111.12";
    heard.last_seen = 1700000100;
    auto r = row(site_rows(site, {heard}, controller), "compute-node");
    EXPECT_EQ(r.state, NodeState::in_progress);
    EXPECT_FALSE(r.enrolled);
    EXPECT_EQ(r.note, "heard at 192.168.111.12 but not enrolled");
    EXPECT_EQ(r.heard_from, "192.168.111.12");

    auto just_enrolled = enrolled("compute-node", "192.168.111.12", {});
    r = row(site_rows(site, {just_enrolled}, controller), "compute-node");
    EXPECT_EQ(r.state, NodeState::in_progress);
    EXPECT_EQ(r.note, "enrolled, no report yet");

    auto working =
        enrolled("compute-node", "192.168.111.12",
                 {step("identity", StepState::done), step("chrony", StepState::pending)});
    r = row(site_rows(site, {working}, controller), "compute-node");
    EXPECT_EQ(r.state, NodeState::in_progress);
    EXPECT_EQ(r.note, "chrony pending");
    EXPECT_EQ(r.steps_done, 1);
    EXPECT_EQ(r.steps_total, 2);

    auto failing = enrolled("compute-node", "192.168.111.12",
                            {step("identity", StepState::done),
                             step("chrony_wait", StepState::failed,
                                  "chronyd not synchronised to 192.168.111.10 after 600 s", 3)});
    r = row(site_rows(site, {failing}, controller), "compute-node");
    EXPECT_EQ(r.state, NodeState::failed);
    EXPECT_EQ(r.note, "chrony_wait failed: chronyd not synchronised to 192.168.111.10 after 600 s");
    EXPECT_EQ(site_overall(site, {failing}, controller), Overall::failed);

    auto reinstalled = enrolled("compute-node", "192.168.111.12", all_done({"identity"}));
    reinstalled.last_refusal =
        "host key changed (reinstalled?); run `airstrap rejoin compute-node` on the "
        "controller to accept it";
    r = row(site_rows(site, {reinstalled}, controller), "compute-node");
    EXPECT_EQ(r.state, NodeState::failed);
    EXPECT_EQ(r.note, "refused: " + reinstalled.last_refusal);
    EXPECT_EQ(site_overall(site, {reinstalled}, controller), Overall::failed);

    // Once the operator opened the window the node is expected back: in progress.
    r = row(site_rows(site, {reinstalled}, controller, {"compute-node"}), "compute-node");
    EXPECT_EQ(r.state, NodeState::in_progress);
    EXPECT_TRUE(r.rejoin_open);
    EXPECT_EQ(r.note, "refused: " + reinstalled.last_refusal +
                          "; a rejoin window is open, waiting for it to enrol again");

    NodeRecord wrong_secret;
    wrong_secret.name = "network-node";
    wrong_secret.address = "192.168.111.11";
    wrong_secret.last_refusal = "its beacons do not verify: the node's site secret differs";
    r = row(site_rows(site, {wrong_secret}, controller), "network-node");
    EXPECT_EQ(r.state, NodeState::failed);
    EXPECT_EQ(r.note, "refused: its beacons do not verify: the node's site secret differs");

    r = row(site_rows(site, {}, {}), "controller-node");
    EXPECT_EQ(r.state, NodeState::in_progress);
    EXPECT_EQ(r.note, "no journal yet (has the daemon started?)");
}

TEST(Status, RecordsOfNodesNotInTheSiteAreIgnored) {
    auto rows = site_rows(lab3(), {enrolled("old-compute", "192.168.111.13", {})}, {});
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].name, "controller-node");
    EXPECT_EQ(rows[1].name, "network-node");
    EXPECT_EQ(rows[2].name, "compute-node");
}

TEST(Status, SiteDoneWhenEveryNodeAndTheControllerAreDone) {
    std::vector<std::string> compute_plan{"identity", "checks",      "host_keys",
                                          "compute",  "enrol",       "authorized_key",
                                          "chrony",   "chrony_wait", "known_hosts"};
    std::vector<NodeRecord> records{
        enrolled("compute-node", "192.168.111.12", all_done(compute_plan)),
        enrolled("network-node", "192.168.111.11", all_done(network_plan))};
    auto controller = all_done(controller_plan);
    EXPECT_EQ(site_overall(lab3(), records, controller), Overall::done);
    EXPECT_EQ(exit_code(site_overall(lab3(), records, controller)), ExitCode::ok);
    auto text = render_site_status(lab3(), records, controller);
    EXPECT_TRUE(text.starts_with("site lab3: done (3/3 nodes done)\n")) << text;
    EXPECT_NE(text.find("compute-node     compute     192.168.111.12  yes       9/9 done  done\n"),
              std::string::npos)
        << text;

    controller[8] = step("verify_ssh", StepState::failed, "ssh root@192.168.111.12: refused");
    EXPECT_EQ(site_overall(lab3(), records, controller), Overall::failed);
    EXPECT_EQ(row(site_rows(lab3(), records, controller), "controller-node").note,
              "verify_ssh failed: ssh root@192.168.111.12: refused");
}

TEST(Status, NodeJson) {
    std::vector<StepRecord> steps{step("identity", StepState::done, "ok"),
                                  step("checks", StepState::running, "", 2)};
    json j = node_status_json("compute-node", steps);
    EXPECT_EQ(j["node"], "compute-node");
    EXPECT_EQ(j["overall"], "in_progress");
    EXPECT_EQ(j["steps_done"], 1);
    EXPECT_EQ(j["steps_total"], 2);
    ASSERT_EQ(j["steps"].size(), 2u);
    EXPECT_EQ(j["steps"][1], (json{{"name", "checks"},
                                   {"state", "running"},
                                   {"detail", ""},
                                   {"attempts", 2},
                                   {"started", 1700000000.0},
                                   {"finished", 1700000001.0}}));
}

TEST(Status, SiteJson) {
    auto reinstalled = enrolled("compute-node", "192.168.111.12", all_done({"identity"}));
    reinstalled.last_refusal = "host key changed (reinstalled?)";
    std::vector<NodeRecord> records{
        enrolled("network-node", "192.168.111.11", all_done(network_plan)), reinstalled};
    json j = site_status_json(lab3(), records, controller_at_barrier());
    EXPECT_EQ(j["site"], "lab3");
    EXPECT_EQ(j["controller"], "controller-node");
    EXPECT_EQ(j["overall"], "failed");
    ASSERT_TRUE(j["nodes"].is_array());
    ASSERT_EQ(j["nodes"].size(), 3u);

    const json& c = j["nodes"][0];
    EXPECT_EQ(c["name"], "controller-node");
    EXPECT_EQ(c["role"], "controller");
    EXPECT_EQ(c["state"], "in_progress");
    EXPECT_EQ(c["note"], "running barrier");
    EXPECT_EQ(c["steps"].size(), 9u);
    EXPECT_EQ(c["steps"][6]["state"], "running");

    const json& n = j["nodes"][1];
    EXPECT_EQ(n, (json{{"name", "network-node"},
                       {"role", "network"},
                       {"address", "192.168.111.11"},
                       {"enrolled", true},
                       {"state", "done"},
                       {"note", ""},
                       {"steps_done", 8},
                       {"steps_total", 8},
                       {"heard_from", "192.168.111.11"},
                       {"last_seen", 1700000100.0},
                       {"generation", 1},
                       {"rejoin_open", false},
                       {"steps", n["steps"]}}));
    EXPECT_EQ(n["steps"].size(), 8u);
    EXPECT_EQ(n["steps"][0]["name"], "identity");

    EXPECT_EQ(j["nodes"][2]["state"], "failed");
    EXPECT_EQ(j["nodes"][2]["note"], "refused: host key changed (reinstalled?)");

    // The text and the JSON agree on the answer.
    EXPECT_EQ(j["overall"], to_string(site_overall(lab3(), records, controller_at_barrier())));
}

TEST(Status, UnauthenticatedAttemptsAreTheirOwnSectionNeverANodesState) {
    std::vector<NodeRecord> records{
        enrolled("network-node", "192.168.111.11", all_done(network_plan))};
    std::vector<UnauthenticatedSource> strangers{
        {"192.168.111.99",
         {"compute-node", "x\x1b[2J"},
         312,
         {{"first frame not sent in 2 s", 300}, {"proof does not verify", 12}},
         "proof does not verify",
         1700000200},
        {"other addresses", {}, 4, {{"malformed beacon", 4}}, "malformed beacon", 1700000201}};
    std::string text = render_site_status(lab3(), records, controller_at_barrier(), {}, strangers);
    std::string without = render_site_status(lab3(), records, controller_at_barrier());
    auto table_end = without.find("\ncontroller-node: ");
    ASSERT_NE(table_end, std::string::npos);
    EXPECT_EQ(text, without.substr(0, table_end) +
                        "\n"
                        "unauthenticated attempts (since the enrolment service started; no "
                        "node's state):\n"
                        "ADDRESS          NAMES CLAIMED       ATTEMPTS  LAST REASON            "
                        "COUNTS\n"
                        "192.168.111.99   compute-node,x [2J  312       proof does not verify  "
                        "first frame not sent in 2 s: 300, proof does not verify: 12\n"
                        "other addresses  -                   4         malformed beacon       "
                        "malformed beacon: 4\n" +
                        without.substr(table_end));
    // The compute node is still just missing; the answer does not change.
    auto row = site_rows(lab3(), records, controller_at_barrier())[2];
    EXPECT_EQ(row.state, NodeState::missing);

    json j = site_status_json(lab3(), records, controller_at_barrier(), {}, strangers);
    ASSERT_EQ(j["unauthenticated"].size(), 2u);
    EXPECT_EQ(
        j["unauthenticated"][0],
        (json{{"address", "192.168.111.99"},
              {"names", {"compute-node", "x\x1b[2J"}},
              {"total", 312},
              {"counts", {{"first frame not sent in 2 s", 300}, {"proof does not verify", 12}}},
              {"last_reason", "proof does not verify"},
              {"last_seen", 1700000200}}));
    EXPECT_EQ(j["nodes"][2]["state"], "missing");
    EXPECT_EQ(j["overall"], "in_progress");
    EXPECT_EQ(site_status_json(lab3(), records, controller_at_barrier())["unauthenticated"],
              json::array());
}

TEST(Status, ARefusalShowsTheAddressItCameFrom) {
    // A squatter holding compute-node's key but not its host keys, at another address.
    auto squatted = enrolled("compute-node", "192.168.111.66", all_done({"identity"}));
    squatted.last_refusal = "host key changed (reinstalled?)";
    auto r = site_rows(lab3(), {squatted}, controller_at_barrier())[2];
    EXPECT_EQ(r.state, NodeState::failed);
    EXPECT_EQ(r.note, "refused (from 192.168.111.66): host key changed (reinstalled?)");
    EXPECT_EQ(r.heard_from, "192.168.111.66");
    EXPECT_NE(render_site_status(lab3(), {squatted}, controller_at_barrier())
                  .find("refused (from 192.168.111.66): host key changed"),
              std::string::npos);
}
