// The cabling check: before the controller's barrier opens, each node pings every peer's
// address on every site network the two share, from the device the site puts that network on
// (a NIC, a bond or a VLAN on either), with packets as large as the network's MTU and
// don't-fragment set. A failed probe is tried again with a small packet to tell a path whose
// MTU is smaller than the site's (a switch port or a peer left at 1500 on a jumbo network)
// from a link that carries nothing (a VLAN missing from a trunk, a cable in the wrong port).
//
// Only IPv4 (site.json carries the nodes' IPv4 addresses). Nothing from the network is
// parsed: ping's exit code decides, its last line is kept only to explain an error. A host
// that answers for an address it does not own (ARP spoofing on the provisioning network)
// makes a link look good: this is a wiring diagnostic, not an authentication of peers (that
// is enrolment's). The probes are ICMP echo requests the node sends: no port is opened.
//
// The journal's detail of the step is one line, "NETWORK: CELL; NETWORK: CELL …", broken
// networks first; the controller's status parses it back into a matrix (links_from_detail).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/subprocess.hpp"
#include "firstboot/steps.hpp"
#include "node/site_json.hpp"

namespace airstrap::firstboot {

// One link to check: from this node's `device` on `network` to `peer` at `address`.
struct LinkProbe {
    std::string network;
    std::string device;
    std::string peer;
    std::string address;
    int mtu = 1500;
};

// Every link `self` shares with another node: networks where both have an IPv4 address, in
// the order of the site's networks, then of its nodes.
std::vector<LinkProbe> links_of(const node::Site& site, const node::Node& self);

enum class LinkState { ok, mtu, unreachable, error };
struct LinkResult {
    LinkProbe probe;
    LinkState state = LinkState::ok;
    std::string why;  // error: ping's own last line (e.g. no such device)
};

// The ping commands: the full-size don't-fragment probe, and the small one after it fails.
std::vector<std::string> full_size_ping(const LinkProbe& p);
std::vector<std::string> small_ping(const LinkProbe& p);

// Probes every link, up to 16 at once, the small probe only for links whose full-size probe
// failed.
std::vector<LinkResult> probe_links(CommandRunner& runner, const std::vector<LinkProbe>& links);

// One cell per network: "ok (N peers)", or the broken links ("cmp2 10.0.122.14 unreachable
// from bond0.122 (VLAN 122), cmp3 … MTU: 1500-byte packets pass, 9000-byte ones do not").
std::string links_detail(const std::vector<LinkResult>& results);
bool all_ok(const std::vector<LinkResult>& results);

// The cells back from a detail: [(network, cell)]. A detail not in that form (a failure
// before any probe, e.g. no ping on the node) gives no cells.
std::vector<std::pair<std::string, std::string>> links_from_detail(const std::string& detail);

// The step: probes links_of(this node) and returns links_detail, or throws Error(links_detail)
// when a link is broken (the daemon retries it with backoff: a peer still booting is found
// later). A node that shares no network with another returns saying so.
std::string step_cabling(StepContext& ctx);

}  // namespace airstrap::firstboot
