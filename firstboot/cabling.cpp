#include "firstboot/cabling.hpp"

#include <algorithm>

#include "common/error.hpp"
#include "common/text.hpp"

namespace airstrap::firstboot {

namespace {

const node::Interface* addressed_on(const node::Node& n, const std::string& network) {
    for (const auto& i : n.interfaces) {
        if (i.network == network && i.address) return &i;
    }
    return nullptr;
}

// "bond0.122" → "122" (the site names VLAN devices PARENT.ID); "" for an untagged device.
std::string vlan_of(const std::string& device) {
    auto dot = device.rfind('.');
    if (dot == std::string::npos || dot + 1 == device.size()) return "";
    std::string id = device.substr(dot + 1);
    if (!std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; })) return "";
    return id;
}

std::vector<std::string> ping(const LinkProbe& p, const std::vector<std::string>& size) {
    // Two echo requests 0.2 s apart, a second for each answer: one lost packet is not a
    // broken link, and a dead one costs about a second. -I binds to the site's device, so a
    // second path between the two nodes cannot answer for this one.
    std::vector<std::string> argv = {"ping", "-n", "-q", "-c", "2", "-i", "0.2", "-W", "1"};
    argv.insert(argv.end(), size.begin(), size.end());
    argv.insert(argv.end(), {"-I", p.device, p.address});
    return argv;
}

// A line of ping's output, made fit for the one-line, ';'-separated detail.
std::string tidy(std::string s) {
    std::replace(s.begin(), s.end(), ';', ',');
    return s;
}

}  // namespace

std::vector<LinkProbe> links_of(const node::Site& site, const node::Node& self) {
    std::vector<LinkProbe> out;
    for (const auto& [name, net] : site.networks) {
        const node::Interface* own = addressed_on(self, name);
        if (!own) continue;
        for (const auto& peer : site.nodes) {
            if (peer.name == self.name) continue;
            const node::Interface* theirs = addressed_on(peer, name);
            if (!theirs) continue;
            out.push_back({name, own->name, peer.name, *theirs->address, net.mtu});
        }
    }
    return out;
}

std::vector<std::string> full_size_ping(const LinkProbe& p) {
    // ICMP payload = MTU - 20 (IPv4 header) - 8 (ICMP header); -M do: don't fragment.
    return ping(p, {"-M", "do", "-s", std::to_string(p.mtu - 28)});
}

std::vector<std::string> small_ping(const LinkProbe& p) {
    return ping(p, {});
}

std::vector<LinkResult> probe_links(CommandRunner& runner, const std::vector<LinkProbe>& links) {
    std::vector<std::vector<std::string>> full;
    for (const auto& l : links) full.push_back(full_size_ping(l));
    std::vector<ProcessResult> first = run_each(runner, full);
    std::vector<LinkResult> out;
    std::vector<std::size_t> failed;
    std::vector<std::vector<std::string>> small;
    for (std::size_t i = 0; i < links.size(); ++i) {
        out.push_back({links[i], LinkState::ok, ""});
        if (first[i].exit_code == 0) continue;
        failed.push_back(i);
        small.push_back(small_ping(links[i]));
    }
    std::vector<ProcessResult> second = run_each(runner, small);
    for (std::size_t k = 0; k < failed.size(); ++k) {
        LinkResult& r = out[failed[k]];
        // ping's exit 1: sent, and no answer came back; 2 and others: it could not send (no
        // such device, not allowed…). A full-size probe the node's own device refuses (its MTU
        // is below the site's) is 1 too: the small probe then passes, as for a switch port.
        if (second[k].exit_code == 0) {
            r.state = LinkState::mtu;
        } else if (second[k].exit_code == 1) {
            r.state = LinkState::unreachable;
        } else {
            r.state = LinkState::error;
            r.why = tidy(what_went_wrong(second[k]));
        }
    }
    return out;
}

bool all_ok(const std::vector<LinkResult>& results) {
    return std::all_of(results.begin(), results.end(),
                       [](const LinkResult& r) { return r.state == LinkState::ok; });
}

std::string links_detail(const std::vector<LinkResult>& results) {
    // Networks in the order of the results (the site's); broken ones first.
    std::vector<std::string> order;
    for (const auto& r : results) {
        if (std::find(order.begin(), order.end(), r.probe.network) == order.end())
            order.push_back(r.probe.network);
    }
    std::vector<std::string> broken_cells, ok_cells;
    for (const auto& network : order) {
        std::vector<std::string> broken;
        int peers = 0, mtu = 1500;
        bool unreachable = false, too_small = false;
        std::string device;
        for (const auto& r : results) {
            if (r.probe.network != network) continue;
            ++peers;
            mtu = r.probe.mtu;
            device = r.probe.device;
            std::string who = r.probe.peer + " " + r.probe.address;
            switch (r.state) {
                case LinkState::ok:
                    break;
                case LinkState::unreachable:
                    broken.push_back(who + " unreachable");
                    unreachable = true;
                    break;
                case LinkState::mtu:
                    broken.push_back(who + " answers small pings but not " + std::to_string(mtu) +
                                     "-byte ones that must not fragment");
                    too_small = true;
                    break;
                case LinkState::error:
                    broken.push_back(who + " not probed: " + r.why);
                    break;
            }
        }
        std::string vlan = vlan_of(device);
        std::string where = device + (vlan.empty() ? "" : " (VLAN " + vlan + ")");
        if (broken.empty()) {
            ok_cells.push_back(network + ": ok, " + std::to_string(peers) +
                               (peers == 1 ? " peer" : " peers") + " from " + where + " at MTU " +
                               std::to_string(mtu));
            continue;
        }
        std::string cell = network + ": from " + where + ", " + std::to_string(broken.size()) +
                           " of " + std::to_string(peers) + " broken: " + text::join(broken, ", ");
        if (unreachable)
            cell += std::string(" (unreachable: ") +
                    (vlan.empty() ? "" : "is VLAN " + vlan + " allowed on both switch ports, ") +
                    "is each cable in its port, is the peer up?)";
        if (too_small)
            cell += " (MTU: set " + std::to_string(mtu) +
                    " on every switch port and node device of " + network + ")";
        broken_cells.push_back(cell);
    }
    broken_cells.insert(broken_cells.end(), ok_cells.begin(), ok_cells.end());
    return text::join(broken_cells, "; ");
}

std::vector<std::pair<std::string, std::string>> links_from_detail(const std::string& detail) {
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t start = 0;
    while (start < detail.size()) {
        std::size_t end = detail.find("; ", start);
        if (end == std::string::npos) end = detail.size();
        std::string part = detail.substr(start, end - start);
        std::size_t colon = part.find(": ");
        if (colon == std::string::npos || colon == 0) return {};
        out.emplace_back(part.substr(0, colon), part.substr(colon + 2));
        start = end + 2;
    }
    return out;
}

std::string step_cabling(StepContext& ctx) {
    std::vector<LinkProbe> links = links_of(ctx.id.site, ctx.self());
    if (links.empty()) return "no other node shares an addressed network with this one";
    std::vector<LinkResult> results = probe_links(ctx.runner, links);
    std::string detail = links_detail(results);
    if (!all_ok(results)) throw Error(detail);
    return detail;
}

}  // namespace airstrap::firstboot
