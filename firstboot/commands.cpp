#include "firstboot/commands.hpp"

#include <chrono>
#include <filesystem>
#include <iostream>
#include <thread>

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/text.hpp"
#include "firstboot/cabling.hpp"
#include "firstboot/daemon.hpp"
#include "firstboot/guard.hpp"
#include "firstboot/journal.hpp"
#include "firstboot/site_state.hpp"
#include "firstboot/status.hpp"
#include "node/identity.hpp"

namespace airstrap::firstboot {

namespace {

struct Snapshot {
    Overall overall = Overall::in_progress;
    std::string text;
    nlohmann::json json;
};

// What the enrolment service published about unauthenticated traffic (guard.hpp): nothing
// when it has not started; a damaged file is said on stderr, never fatal to status.
std::vector<UnauthenticatedSource> unauthenticated(const std::filesystem::path& file) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) return {};
    try {
        return unauthenticated_from_json(nlohmann::json::parse(read_file(file, 4 << 20)));
    } catch (const std::exception& e) {
        std::cerr << "warning: " << file.string() << ": cannot read the unauthenticated attempts ("
                  << describe(e)
                  << "); the enrolment service rewrites it within 5 s of the next attempt\n";
        return {};
    }
}

// Reads the journal (and on the controller the site state) as the running daemon left them:
// loading never writes, and every file is replaced atomically, so a read is never torn.
Snapshot snapshot(const node::Identity& id, const node::Paths& paths) {
    const node::Node& self = *id.site.node(id.node);
    Journal journal(paths.journal(), plan_for(id.site, self));
    std::vector<StepRecord> steps = journal.records();
    Snapshot s;
    if (self.role != node::Role::controller) {
        s.overall = overall_of(steps);
        s.text = render_node_status(id.node, steps);
        s.json = node_status_json(id.node, steps);
        return s;
    }
    SiteState state(paths.enrolled(), paths.rejoin_dir());
    std::set<std::string> rejoin;
    for (const auto& n : id.site.nodes) {
        if (state.rejoin_open(n.name)) rejoin.insert(n.name);
    }
    auto records = state.nodes();
    auto strangers = unauthenticated(paths.run_dir() / "unauthenticated.json");
    s.overall = site_overall(id.site, records, steps, rejoin);
    s.text = render_site_status(id.site, records, steps, rejoin, strangers);
    s.json = site_status_json(id.site, records, steps, rejoin, strangers);
    return s;
}

}  // namespace

int show_status(const StatusOptions& o, std::ostream& out) {
    node::Identity id = node::load_identity(o.paths);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.timeout);
    Snapshot s = snapshot(id, o.paths);
    // The daemon retries a failed step, so only done ends the wait early; at the timeout
    // the state then is the answer (1 failed, 3 still in progress).
    while (o.wait && s.overall != Overall::done && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        s = snapshot(id, o.paths);
    }
    if (o.json) {
        out << s.json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
        out << s.text;
    }
    return static_cast<int>(exit_code(s.overall));
}

void open_rejoin(const node::Paths& paths, const std::string& node, std::ostream& out) {
    node::Identity id = node::load_identity(paths);
    if (id.site.node(id.node)->role != node::Role::controller)
        throw InputError("rejoin is run on the controller (" + id.site.controller().name +
                         "); this is " + id.node);
    const node::Node* n = id.site.node(node);
    if (!n) throw InputError("'" + node + "' is not a node of site " + id.site.site.name);
    if (n->role == node::Role::controller)
        throw InputError("the controller does not enrol with itself; nothing to rejoin");
    double expires = SiteState::open_rejoin(paths.rejoin_dir(), node,
                                            std::chrono::seconds(id.site.firstboot.rejoin_window));
    out << "rejoin window open for " << node << " (" << id.site.address(*n) << ") until "
        << format_utc(expires)
        << ": its next enrolment may carry new SSH host keys; the old pin is replaced and "
           "known_hosts is updated on every node. Past that time the window is closed: run "
           "`airstrap rejoin "
        << node
        << "` again.\nTo reinstall it over the network, put it back into build on the PXE "
           "server first: `airstrap serve PXE-DIR --rebuild "
        << node << "` (an installed node boots its local disk from the network until then)\n";
}

int check_links(const node::Paths& paths, CommandRunner& runner, std::ostream& out) {
    node::Identity id = node::load_identity(paths);
    std::vector<LinkProbe> links = links_of(id.site, *id.site.node(id.node));
    if (links.empty()) {
        out << id.node << ": no other node shares an addressed network with this one\n";
        return 0;
    }
    std::vector<LinkResult> results = probe_links(runner, links);
    std::vector<std::vector<std::string>> rows = {
        {"NETWORK", "DEVICE", "PEER", "ADDRESS", "RESULT"}};
    for (const auto& r : results) {
        std::string result = r.state == LinkState::ok    ? "ok"
                             : r.state == LinkState::mtu ? "MTU " + std::to_string(r.probe.mtu) +
                                                               " does not pass (small pings do)"
                             : r.state == LinkState::unreachable ? "unreachable"
                                                                 : "not probed: " + r.why;
        rows.push_back({r.probe.network, r.probe.device, r.probe.peer, r.probe.address, result});
    }
    out << text::columns(rows) << "\n" << links_detail(results) << "\n";
    return all_ok(results) ? 0 : 1;
}

}  // namespace airstrap::firstboot
