// What `airstrap-firstboot status` (also `airstrap status`) shows. On a node: its own journal.
// On the controller: one row per node of the site as the controller knows it (site_state.hpp),
// then its own journal. `--json` prints the same content for machines. Pure functions over
// what the caller read, so the tests check the exact text; reading the files, --wait and
// printing are the caller's (commands.hpp). Details are kept as reported in the JSON: dump it
// with json::error_handler_t::replace (a command's output may not be UTF-8).
//
// A node's state, worst first: failed (a step failed, or its last attempt to enrol or report
// was refused), in progress (working, or heard from but not enrolled yet, or refused while a
// rejoin window is open for it), missing (never heard from: counts as in progress, the
// controller's barrier step fails once it has waited long enough), done.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "firstboot/guard.hpp"
#include "firstboot/journal.hpp"
#include "firstboot/site_state.hpp"
#include "node/identity.hpp"

namespace airstrap::firstboot {

// The whole answer, and status's exit code.
enum class Overall { done, in_progress, failed };
const char* to_string(Overall o);  // "done", "in_progress", "failed" (as in the JSON)
ExitCode exit_code(Overall o);     // ok, failure, in_progress (3)

// failed if any step failed; done if there are steps and every one is done; else in progress.
Overall overall_of(const std::vector<StepRecord>& steps);

enum class NodeState { done, in_progress, failed, missing };
const char* to_string(NodeState s);  // "done", "in_progress", "failed", "missing"

// One node as the controller sees it: a row of the site table, an entry of the JSON.
struct NodeStatus {
    std::string name;
    node::Role role = node::Role::compute;
    std::string address;    // the site's address for it
    bool enrolled = false;  // pinned by the controller (the controller itself: true)
    int steps_done = 0;     // of its steps as last reported
    int steps_total = 0;    // 0: nothing reported yet
    NodeState state = NodeState::missing;
    std::string note;        // why it is not done, e.g. "chrony_wait failed: …"; "" when done
    std::string heard_from;  // address it last connected or sent a beacon from ("" never)
    double last_seen = 0;    // unix seconds, 0 never
    int generation = 0;      // pin generation (bumped by each enrolment)
    bool rejoin_open = false;
    std::vector<StepRecord> steps;
};

// Rows in site order, the controller's (from its own journal) included. `records` are
// SiteState::nodes(); records of names not in the site are ignored. `rejoin_open` names the
// nodes with an open rejoin window.
std::vector<NodeStatus> site_rows(const node::Site& site, const std::vector<NodeRecord>& records,
                                  const std::vector<StepRecord>& controller_steps,
                                  const std::set<std::string>& rejoin_open = {});

// Worst over site_rows: any failed → failed; every node done → done; else in progress.
Overall site_overall(const node::Site& site, const std::vector<NodeRecord>& records,
                     const std::vector<StepRecord>& controller_steps,
                     const std::set<std::string>& rejoin_open = {});

// "NODE: in progress (5/10 steps done)", a blank line, then the table
// STEP  STATE  ATTEMPTS  DETAIL. Control characters in details are shown as spaces.
std::string render_node_status(const std::string& node, const std::vector<StepRecord>& steps);

// "site NAME: in progress (1/3 nodes done)", a blank line, the table
// NODE  ROLE  ADDRESS  ENROLLED  STEPS  STATE  NOTE, then (once some node has run its cabling
// step) a blank line, "links (…):" and the matrix NODE × network (cells "ok", the broken
// links from the node's cabling detail, or "-"), a blank line, then (when there are any)
// "unauthenticated attempts …:" and the table ADDRESS  NAMES CLAIMED  ATTEMPTS  LAST REASON
// COUNTS and a blank line, then the controller's own render_node_status. Unauthenticated
// attempts (guard.hpp) are anyone's: they never change a node's state or the overall answer.
std::string render_site_status(const node::Site& site, const std::vector<NodeRecord>& records,
                               const std::vector<StepRecord>& controller_steps,
                               const std::set<std::string>& rejoin_open = {},
                               const std::vector<UnauthenticatedSource>& unauthenticated = {});

// {"node", "overall", "steps_done", "steps_total", "steps": [{name, state, detail, attempts,
// started, finished}…]}
nlohmann::json node_status_json(const std::string& node, const std::vector<StepRecord>& steps);

// {"site", "controller", "overall", "nodes": [{"name", "role", "address", "enrolled", "state",
// "note", "steps_done", "steps_total", "heard_from", "last_seen", "generation", "rejoin_open",
// "steps": […]}…], "links": {NODE: {NETWORK: CELL}}, "unauthenticated": [{"address", "names",
// "total", "counts", "last_reason", "last_seen"}…]}, the nodes in site order, the controller's
// entry with its own steps.
nlohmann::json site_status_json(const node::Site& site, const std::vector<NodeRecord>& records,
                                const std::vector<StepRecord>& controller_steps,
                                const std::set<std::string>& rejoin_open = {},
                                const std::vector<UnauthenticatedSource>& unauthenticated = {});

}  // namespace airstrap::firstboot
