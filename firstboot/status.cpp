#include "firstboot/status.hpp"

#include <algorithm>
#include <map>

#include "common/text.hpp"
#include "firstboot/cabling.hpp"

namespace airstrap::firstboot {

using nlohmann::json;

const char* to_string(Overall o) {
    switch (o) {
        case Overall::done:
            return "done";
        case Overall::in_progress:
            return "in_progress";
        case Overall::failed:
            return "failed";
    }
    return "?";
}

ExitCode exit_code(Overall o) {
    switch (o) {
        case Overall::done:
            return ExitCode::ok;
        case Overall::failed:
            return ExitCode::failure;
        case Overall::in_progress:
            return ExitCode::in_progress;
    }
    return ExitCode::failure;
}

const char* to_string(NodeState s) {
    switch (s) {
        case NodeState::done:
            return "done";
        case NodeState::in_progress:
            return "in_progress";
        case NodeState::failed:
            return "failed";
        case NodeState::missing:
            return "missing";
    }
    return "?";
}

Overall overall_of(const std::vector<StepRecord>& steps) {
    bool all_done = !steps.empty();
    for (const auto& s : steps) {
        if (s.state == StepState::failed) return Overall::failed;
        if (s.state != StepState::done) all_done = false;
    }
    return all_done ? Overall::done : Overall::in_progress;
}

namespace {

int count_done(const std::vector<StepRecord>& steps) {
    return static_cast<int>(std::count_if(steps.begin(), steps.end(), [](const StepRecord& s) {
        return s.state == StepState::done;
    }));
}

// Why a node whose steps are not all done is not: the failing step, else where it is at.
std::string steps_note(const std::vector<StepRecord>& steps) {
    for (const auto& s : steps) {
        if (s.state == StepState::failed) return s.name + " failed: " + s.detail;
    }
    for (const auto& s : steps) {
        if (s.state == StepState::running) return "running " + s.name;
    }
    for (const auto& s : steps) {
        if (s.state != StepState::done) return s.name + " pending";
    }
    return "";
}

NodeState state_of(Overall o) {
    switch (o) {
        case Overall::done:
            return NodeState::done;
        case Overall::failed:
            return NodeState::failed;
        case Overall::in_progress:
            break;
    }
    return NodeState::in_progress;
}

NodeStatus controller_row(const node::Site& site, const node::Node& n,
                          const std::vector<StepRecord>& steps) {
    NodeStatus row;
    row.name = n.name;
    row.role = n.role;
    row.address = site.address(n);
    row.enrolled = true;
    row.steps = steps;
    row.steps_done = count_done(steps);
    row.steps_total = static_cast<int>(steps.size());
    row.state = state_of(overall_of(steps));
    row.note = steps.empty() ? "no journal yet (has the daemon started?)" : steps_note(steps);
    return row;
}

NodeStatus node_row(const node::Site& site, const node::Node& n, const NodeRecord* rec,
                    bool rejoin_open) {
    NodeStatus row;
    row.name = n.name;
    row.role = n.role;
    row.address = site.address(n);
    row.rejoin_open = rejoin_open;
    if (rec) {
        row.enrolled = rec->enrolled;
        row.heard_from = rec->address;
        row.last_seen = rec->last_seen;
        row.generation = rec->generation;
        row.steps = rec->steps;
        row.steps_done = count_done(rec->steps);
        row.steps_total = static_cast<int>(rec->steps.size());
    }
    if (rec && !rec->last_refusal.empty()) {
        // Where the refused attempt came from: the node's own address, or a squatter's.
        std::string refused = rec->address.empty() || rec->address == row.address
                                  ? "refused: "
                                  : "refused (from " + rec->address + "): ";
        if (rejoin_open) {
            row.state = NodeState::in_progress;
            row.note = refused + rec->last_refusal +
                       "; a rejoin window is open, waiting for it to enrol again";
        } else {
            row.state = NodeState::failed;
            row.note = refused + rec->last_refusal;
        }
    } else if (!rec || (!rec->enrolled && rec->last_seen == 0)) {
        row.state = NodeState::missing;
        row.note = "never heard from";
    } else if (!rec->enrolled) {
        row.state = NodeState::in_progress;
        row.note = "heard at " + rec->address + " but not enrolled";
    } else if (rec->steps.empty()) {
        row.state = NodeState::in_progress;
        row.note = "enrolled, no report yet";
    } else {
        row.state = state_of(overall_of(rec->steps));
        row.note = steps_note(rec->steps);
    }
    if (rejoin_open && row.note.empty()) row.note = "rejoin window open";
    return row;
}

// Details and notes come from other machines and from commands' output: one line each, and
// nothing a terminal would act on (C0 controls, DEL, and C1 controls encoded in UTF-8).
std::string one_line(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7f) {
            out += ' ';
        } else if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
                   static_cast<unsigned char>(s[i + 1]) <= 0x9f) {
            out += ' ';
            ++i;
        } else {
            out += s[i];
        }
    }
    return out;
}

const char* words(Overall o) {
    return o == Overall::in_progress ? "in progress" : to_string(o);
}

const char* words(NodeState s) {
    return s == NodeState::in_progress ? "in progress" : to_string(s);
}

std::string steps_cell(int done, int total) {
    if (total == 0) return "-";
    return std::to_string(done) + "/" + std::to_string(total) + " done";
}

json steps_json(const std::vector<StepRecord>& steps) {
    json out = json::array();
    for (const auto& s : steps) out.push_back(step_to_json(s));
    return out;
}

std::vector<NodeStatus> rows_for(const node::Site& site, const std::vector<NodeRecord>& records,
                                 const std::vector<StepRecord>& controller_steps,
                                 const std::set<std::string>& rejoin_open) {
    std::map<std::string, const NodeRecord*> by_name;
    for (const auto& r : records) by_name[r.name] = &r;
    std::vector<NodeStatus> rows;
    for (const auto& n : site.nodes) {
        if (n.role == node::Role::controller) {
            rows.push_back(controller_row(site, n, controller_steps));
        } else {
            auto it = by_name.find(n.name);
            rows.push_back(node_row(site, n, it == by_name.end() ? nullptr : it->second,
                                    rejoin_open.count(n.name) > 0));
        }
    }
    return rows;
}

Overall overall_of_rows(const std::vector<NodeStatus>& rows) {
    bool all_done = !rows.empty();
    for (const auto& r : rows) {
        if (r.state == NodeState::failed) return Overall::failed;
        if (r.state != NodeState::done) all_done = false;
    }
    return all_done ? Overall::done : Overall::in_progress;
}

// Each node's cabling cells (cabling.hpp) by network, from its "cabling" step as last
// reported; a node without that step's detail yet has none. The detail is the node's word:
// only the site's networks are taken from it.
std::map<std::string, std::map<std::string, std::string>> link_cells(
    const node::Site& site, const std::vector<NodeStatus>& rows) {
    std::map<std::string, std::map<std::string, std::string>> out;
    for (const auto& r : rows) {
        for (const auto& s : r.steps) {
            if (s.name != "cabling" || s.detail.empty()) continue;
            for (auto& [network, cell] : links_from_detail(s.detail)) {
                if (site.networks.count(network)) out[r.name][network] = cell;
            }
        }
    }
    return out;
}

// The matrix under the node table: NODE, then one column per network some node is addressed
// on; a cell is "ok", the broken links (without the advice, which the step's detail has), or
// "-" (not on that network, or not checked yet).
std::string links_matrix(const node::Site& site, const std::vector<NodeStatus>& rows) {
    auto cells = link_cells(site, rows);
    if (cells.empty()) return "";
    std::vector<std::string> networks;
    for (const auto& entry : site.networks) {
        const std::string& name = entry.first;  // not a binding: clang 14 cannot capture those
        bool addressed =
            std::any_of(site.nodes.begin(), site.nodes.end(), [&](const node::Node& n) {
                return std::any_of(
                    n.interfaces.begin(), n.interfaces.end(),
                    [&](const node::Interface& i) { return i.network == name && i.address; });
            });
        if (addressed) networks.push_back(name);
    }
    std::vector<std::vector<std::string>> table{{"NODE"}};
    for (const auto& n : networks) table[0].push_back(n);
    for (const auto& r : rows) {
        std::vector<std::string> line{r.name};
        auto mine = cells.find(r.name);
        for (const auto& n : networks) {
            std::string cell = "-";
            if (mine != cells.end() && mine->second.count(n)) {
                cell = mine->second.at(n);
                if (cell.rfind("ok", 0) == 0) {
                    cell = "ok";
                } else {
                    auto advice = cell.find(" (unreachable: ");
                    cell = cell.substr(0, std::min(advice, cell.find(" (MTU: ")));
                }
            }
            line.push_back(one_line(cell));
        }
        table.push_back(std::move(line));
    }
    return "\nlinks (each node's cabling step: the peers it reaches on each network):\n" +
           text::columns(table);
}

}  // namespace

std::vector<NodeStatus> site_rows(const node::Site& site, const std::vector<NodeRecord>& records,
                                  const std::vector<StepRecord>& controller_steps,
                                  const std::set<std::string>& rejoin_open) {
    return rows_for(site, records, controller_steps, rejoin_open);
}

Overall site_overall(const node::Site& site, const std::vector<NodeRecord>& records,
                     const std::vector<StepRecord>& controller_steps,
                     const std::set<std::string>& rejoin_open) {
    return overall_of_rows(rows_for(site, records, controller_steps, rejoin_open));
}

std::string render_node_status(const std::string& node, const std::vector<StepRecord>& steps) {
    std::string out = one_line(node) + ": " + words(overall_of(steps));
    if (steps.empty()) return out + " (no steps recorded yet)\n";
    out += " (" + std::to_string(count_done(steps)) + "/" + std::to_string(steps.size()) +
           " steps done)\n\n";
    std::vector<std::vector<std::string>> rows{{"STEP", "STATE", "ATTEMPTS", "DETAIL"}};
    for (const auto& s : steps) {
        rows.push_back(
            {one_line(s.name), to_string(s.state), std::to_string(s.attempts), one_line(s.detail)});
    }
    return out + text::columns(rows);
}

std::string render_site_status(const node::Site& site, const std::vector<NodeRecord>& records,
                               const std::vector<StepRecord>& controller_steps,
                               const std::set<std::string>& rejoin_open,
                               const std::vector<UnauthenticatedSource>& unauthenticated) {
    auto nodes = rows_for(site, records, controller_steps, rejoin_open);
    auto done = std::count_if(nodes.begin(), nodes.end(),
                              [](const NodeStatus& r) { return r.state == NodeState::done; });
    std::string out = "site " + site.site.name + ": " + words(overall_of_rows(nodes)) + " (" +
                      std::to_string(done) + "/" + std::to_string(nodes.size()) +
                      " nodes done)\n\n";
    std::vector<std::vector<std::string>> rows{
        {"NODE", "ROLE", "ADDRESS", "ENROLLED", "STEPS", "STATE", "NOTE"}};
    for (const auto& r : nodes) {
        rows.push_back({r.name, to_string(r.role), r.address,
                        r.role == node::Role::controller ? "-" : (r.enrolled ? "yes" : "no"),
                        steps_cell(r.steps_done, r.steps_total), words(r.state), one_line(r.note)});
    }
    out += text::columns(rows);
    out += links_matrix(site, nodes);
    if (!unauthenticated.empty()) {
        out +=
            "\nunauthenticated attempts (since the enrolment service started; no node's "
            "state):\n";
        std::vector<std::vector<std::string>> strangers{
            {"ADDRESS", "NAMES CLAIMED", "ATTEMPTS", "LAST REASON", "COUNTS"}};
        for (const auto& u : unauthenticated) {
            std::string names, counts;
            for (const auto& n : u.names) names += (names.empty() ? "" : ",") + one_line(n);
            for (const auto& [reason, n] : u.counts)
                counts +=
                    (counts.empty() ? "" : ", ") + one_line(reason) + ": " + std::to_string(n);
            strangers.push_back({one_line(u.address), names.empty() ? "-" : names,
                                 std::to_string(u.total), one_line(u.last_reason), counts});
        }
        out += text::columns(strangers);
    }
    const node::Node& controller = site.controller();
    return out + "\n" + render_node_status(controller.name, controller_steps);
}

json node_status_json(const std::string& node, const std::vector<StepRecord>& steps) {
    return {{"node", node},
            {"overall", to_string(overall_of(steps))},
            {"steps_done", count_done(steps)},
            {"steps_total", steps.size()},
            {"steps", steps_json(steps)}};
}

json site_status_json(const node::Site& site, const std::vector<NodeRecord>& records,
                      const std::vector<StepRecord>& controller_steps,
                      const std::set<std::string>& rejoin_open,
                      const std::vector<UnauthenticatedSource>& unauthenticated) {
    auto rows = rows_for(site, records, controller_steps, rejoin_open);
    json nodes = json::array();
    for (const auto& r : rows) {
        nodes.push_back({{"name", r.name},
                         {"role", to_string(r.role)},
                         {"address", r.address},
                         {"enrolled", r.enrolled},
                         {"state", to_string(r.state)},
                         {"note", r.note},
                         {"steps_done", r.steps_done},
                         {"steps_total", r.steps_total},
                         {"heard_from", r.heard_from},
                         {"last_seen", r.last_seen},
                         {"generation", r.generation},
                         {"rejoin_open", r.rejoin_open},
                         {"steps", steps_json(r.steps)}});
    }
    return {{"site", site.site.name},
            {"controller", site.controller().name},
            {"overall", to_string(overall_of_rows(rows))},
            {"nodes", std::move(nodes)},
            {"links", link_cells(site, rows)},
            {"unauthenticated", unauthenticated_to_json(unauthenticated)["sources"]}};
}

}  // namespace airstrap::firstboot
