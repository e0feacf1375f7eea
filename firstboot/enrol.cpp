#include "firstboot/enrol.hpp"

#include <chrono>
#include <deque>
#include <map>
#include <set>

#include "common/error.hpp"

namespace airstrap::firstboot {

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// The enrolment port (TCP) and the beacons' (UDP); site.json's reader keeps it in 1…65535.
std::uint16_t port_of(const node::Identity& id) {
    return static_cast<std::uint16_t>(id.site.firstboot.port);
}

constexpr auto session_timeout = 10s;

// Why an unauthenticated session broke off, in the few words the guard counts by.
std::string failure_reason(const std::exception& e, bool first_frame) {
    if (const auto* s = dynamic_cast<const SystemError*>(&e)) {
        if (s->errnum() == ETIMEDOUT)
            return first_frame ? "first frame not sent in 2 s" : "session not finished in 10 s";
        if (s->errnum() == ECONNRESET)
            return first_frame ? "closed before its first frame" : "closed mid-session";
    }
    if (dynamic_cast<const proto::ProtocolError*>(&e)) return "malformed frame";
    return first_frame ? "broke off before its first frame" : "broke off mid-session";
}

}  // namespace

json steps_to_json(const std::vector<StepRecord>& steps) {
    json out = json::array();
    for (const auto& s : steps) out.push_back(step_to_json(s));
    return out;
}

std::vector<StepRecord> steps_from_json(const json& j) {
    if (!j.is_array() || j.size() > 64) throw proto::ProtocolError("steps: expected a list");
    std::vector<StepRecord> out;
    try {
        for (std::size_t i = 0; i < j.size(); ++i) {
            StepRecord r = step_from_json(j[i], "steps[" + std::to_string(i) + "]");
            r.name = r.name.substr(0, 64);
            r.detail = r.detail.substr(0, 1024);
            out.push_back(std::move(r));
        }
    } catch (const InputError&) {
        std::throw_with_nested(proto::ProtocolError("report"));
    }
    return out;
}

// ---------------------------------------------------------------------------- node side

EnrolClient::EnrolClient(const node::Identity& id, std::vector<std::string> host_keys,
                         Traffic& traffic)
    : id_(id),
      keys_(proto::derive_keys(id.is_controller() ? id.site_secret : id.node_key)),
      host_keys_(std::move(host_keys)),
      traffic_(traffic),
      udp_(net::udp_sender()) {}

EnrolClient::Reply EnrolClient::request(proto::Purpose purpose, const json& body) {
    const node::Node& self = *id_.site.node(id_.node);
    const node::Node& controller = id_.site.controller();
    auto deadline = net::Clock::now() + session_timeout;
    net::Socket s;
    try {
        s = net::connect_tcp(id_.site.address(self), id_.site.address(controller), port_of(id_),
                             5s);
    } catch (const SystemError& e) {
        if (e.errnum() != EADDRNOTAVAIL) throw;
        // The management address is not (yet) on this host: let the kernel choose.
        s = net::connect_tcp("", id_.site.address(controller), port_of(id_), 5s);
    }
    ++traffic_.sessions;

    proto::Hello hello;
    hello.node = id_.node;
    hello.purpose = purpose;
    hello.nonce = crypto::random_bytes(proto::nonce_size);
    hello.host_keys = host_keys_;
    hello.body = body.dump();
    net::write_frame(s, proto::encode(hello), deadline);
    ++traffic_.frames;

    proto::Challenge challenge = proto::decode_challenge(net::read_frame(s, deadline));
    ++traffic_.frames;
    if (!proto::verify_controller(keys_, hello, challenge)) {
        throw proto::ProtocolError(
            "the controller at " + id_.site.address(controller) +
            " could not prove it holds this site's secret: this node's /etc/airstrap/site.key "
            "differs from the controller's (media built for another site, or an old build?)");
    }
    proto::Response response{proto::node_proof(keys_, hello, challenge)};
    net::write_frame(s, proto::encode(response), deadline);
    ++traffic_.frames;

    proto::Result result = proto::decode_result(net::read_frame(s, deadline));
    ++traffic_.frames;
    if (!proto::verify_result(keys_, hello, challenge, response, result))
        throw proto::ProtocolError("the controller's answer does not verify (tampered?)");
    Reply reply;
    reply.ok = result.ok;
    reply.error = result.error;
    if (result.ok) {
        reply.body = json::parse(result.body, nullptr, false);
        if (reply.body.is_discarded() || !reply.body.is_object())
            throw proto::ProtocolError("the controller's answer has no valid body");
    }
    return reply;
}

void EnrolClient::beacon() {
    std::string data = proto::encode(proto::make_beacon(keys_, id_.node));
    for (const std::string& to :
         {id_.site.address(id_.site.controller()), id_.site.management_broadcast()}) {
        try {
            net::send_udp(udp_, to, port_of(id_), data);
            ++traffic_.beacons;
        } catch (const Error&) {
            // Hints only: enrolment over TCP does not depend on them.
        }
    }
}

// ----------------------------------------------------------------------- controller side

EnrolServer::EnrolServer(const node::Identity& id, SiteState& state,
                         std::vector<std::string> host_keys, std::string root_public_key, Log& log,
                         Traffic& traffic)
    : id_(id),
      state_(state),
      keys_(proto::derive_keys(id.is_controller() ? id.site_secret : id.node_key)),
      host_keys_(std::move(host_keys)),
      root_public_key_(std::move(root_public_key)),
      log_(log),
      traffic_(traffic) {}

EnrolServer::~EnrolServer() {
    stop();
}

void EnrolServer::start() {
    const node::Node& self = id_.site.controller();
    const std::string& address = id_.site.address(self);
    listener_ = net::listen_tcp(address, port_of(id_));
    udp_ = net::bind_udp(address, port_of(id_));
    acceptor_ = std::thread([this] { accept_loop(); });
    beacons_ = std::thread([this] { beacon_loop(); });
    log_.info("listening for enrolment on " + address + ":" + std::to_string(port_of(id_)) +
              " (TCP and UDP beacons), to " + id_.site.management_cidr() + " only");
}

void EnrolServer::stop() {
    stop_ = true;
    if (acceptor_.joinable()) acceptor_.join();
    if (beacons_.joinable()) beacons_.join();
    while (active_ > 0) std::this_thread::sleep_for(10ms);
    guard_.tick();
}

void EnrolServer::accept_loop() {
    while (!stop_) {
        guard_.tick();
        std::string peer;
        net::Socket s = net::accept_tcp(listener_, 200ms, peer);
        if (!s) continue;
        // Outside the management network, or too many at once: closed before any read (the
        // guard counts it; nothing is logged per connection).
        Guard::Ticket ticket = guard_.admit(peer);
        if (!ticket) continue;
        ++active_;
        std::thread([this, sock = std::move(s), peer, t = std::move(ticket)]() mutable {
            serve(std::move(sock), peer);
            t.release();
            --active_;
        }).detach();
    }
}

void EnrolServer::beacon_loop() {
    // Nonces of verified beacons only: unverified ones cannot push them out.
    std::deque<std::string> recent;
    std::set<std::string> seen;
    while (!stop_) {
        std::string data, peer;
        if (!net::receive_udp(udp_, 200ms, data, peer)) continue;
        if (!guard_.in_network(peer)) {
            guard_.failed_beacon(peer, "", "outside the management network");
            continue;
        }
        std::string claimed;
        try {
            proto::Beacon b = proto::decode_beacon(data);
            ++traffic_.beacons;
            claimed = b.node;
            const node::Node* n = id_.site.node(b.node);
            if (!n) {
                guard_.failed_beacon(peer, claimed, "unknown name");
                continue;
            }
            if (!proto::verify_beacon(keys_, b)) {
                guard_.failed_beacon(peer, claimed, "beacon does not verify");
                continue;
            }
            std::string nonce = crypto::to_hex(b.nonce);
            if (seen.count(nonce)) continue;  // a replay or the broadcast copy of a unicast one
            seen.insert(nonce);
            recent.push_back(nonce);
            if (recent.size() > 4096) {
                seen.erase(recent.front());
                recent.pop_front();
            }
            state_.seen(b.node, peer);
        } catch (const std::exception&) {
            // Not ours, or malformed: beacons are hints, nothing to answer.
            guard_.failed_beacon(peer, claimed, "malformed beacon");
        }
    }
}

void EnrolServer::serve(net::Socket s, std::string peer) {
    auto deadline = net::Clock::now() + session_timeout;
    std::string who = peer, claimed;
    // Until the node's proof verifies, a failure is anyone's: counted by the guard, not logged
    // one by one, never written to the site state.
    bool first_frame = true, authenticated = false;
    try {
        ++traffic_.sessions;
        auto first_deadline = std::min(deadline, net::Clock::now() + guard_.limits().first_frame);
        proto::Hello hello = proto::decode_hello(net::read_frame(s, first_deadline));
        first_frame = false;
        ++traffic_.frames;
        claimed = hello.node;
        who = hello.node + " (" + peer + ")";
        proto::Challenge challenge;
        challenge.nonce = crypto::random_bytes(proto::nonce_size);
        challenge.host_keys = host_keys_;
        challenge.proof = proto::controller_proof(keys_, hello, challenge);
        net::write_frame(s, proto::encode(challenge), deadline);
        ++traffic_.frames;
        proto::Response response = proto::decode_response(net::read_frame(s, deadline));
        ++traffic_.frames;
        if (!proto::verify_node(keys_, hello, challenge, response)) {
            guard_.failed(peer, claimed, "proof does not verify");
            return;
        }
        authenticated = true;
        proto::Result result = handle(hello, peer);
        result.mac = proto::result_mac(keys_, hello, challenge, response, result);
        net::write_frame(s, proto::encode(result), deadline);
        ++traffic_.frames;
    } catch (const std::exception& e) {
        // The node retries; a session that breaks off changes nothing.
        if (authenticated) {
            log_.warn("enrolment session with " + who + " abandoned: " + describe(e));
        } else {
            guard_.failed(peer, claimed, failure_reason(e, first_frame));
        }
    }
}

proto::Result EnrolServer::handle(const proto::Hello& hello, const std::string& peer) {
    proto::Result r;
    const node::Node* node = id_.site.node(hello.node);
    auto refuse = [&](const std::string& why) {
        log_.warn(hello.node + " (" + peer + "): " + to_string(hello.purpose) + " refused: " + why);
        if (node) state_.refused(hello.node, peer, why);
        r.ok = false;
        r.error = why;
        return r;
    };
    if (!node) return refuse("'" + hello.node + "' is not a node of site " + id_.site.site.name);
    if (node->role == node::Role::controller)
        return refuse("the controller does not enrol with itself");
    if (peer != id_.site.address(*node))
        return refuse("connected from " + peer + " but site.yaml gives it the address " +
                      id_.site.address(*node));

    if (hello.purpose == proto::Purpose::enrol) {
        switch (state_.pin(hello.node, hello.host_keys, peer)) {
            case SiteState::PinResult::pinned_new:
                log_.info(hello.node + " (" + peer + ") enrolled; host keys pinned");
                break;
            case SiteState::PinResult::rejoined:
                log_.info(hello.node + " (" + peer +
                          ") rejoined with new host keys (rejoin window used)");
                break;
            case SiteState::PinResult::unchanged:
                break;
            case SiteState::PinResult::refused_changed_key:
                return refuse(
                    "its SSH host keys differ from the ones pinned when it enrolled "
                    "(reinstalled?); run `airstrap rejoin " +
                    hello.node + "` on the controller to accept the new ones");
            case SiteState::PinResult::refused_window_expired: {
                auto window = state_.rejoin_window(hello.node);
                return refuse(
                    "its SSH host keys differ from the pinned ones and its rejoin "
                    "window expired" +
                    (window ? " at " + format_utc(window->expires) : std::string()) +
                    "; run `airstrap rejoin " + hello.node + "` on the controller again");
            }
        }
        r.ok = true;
        r.body = json{{"controller_key", root_public_key_}}.dump();
        return r;
    }

    auto pinned = state_.node(hello.node);
    if (!pinned || !pinned->enrolled) return refuse("not enrolled yet");
    if (pinned->host_keys != hello.host_keys)
        return refuse("its SSH host keys differ from the pinned ones; it must enrol again");
    state_.seen(hello.node, peer);
    if (hello.purpose == proto::Purpose::roster) {
        r.ok = true;
        r.body = roster().dump();
        return r;
    }
    // report
    json body = json::parse(hello.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("steps"))
        return refuse("report without steps");
    state_.report(hello.node, steps_from_json(body["steps"]));
    r.ok = true;
    r.body = "{}";
    return r;
}

json EnrolServer::roster() const {
    json nodes = json::array();
    bool complete = true;
    int generation = state_.roster_generation();
    for (const auto& n : id_.site.nodes) {
        std::vector<std::string> keys;
        if (n.role == node::Role::controller) {
            keys = host_keys_;
        } else {
            auto rec = state_.node(n.name);
            if (!rec || !rec->enrolled) {
                complete = false;
                continue;
            }
            keys = rec->host_keys;
        }
        nodes.push_back({{"name", n.name},
                         {"fqdn", id_.site.fqdn(n)},
                         {"address", id_.site.address(n)},
                         {"role", to_string(n.role)},
                         {"host_keys", keys}});
    }
    return {{"generation", generation},
            {"complete", complete},
            {"controller_key", root_public_key_},
            {"nodes", nodes}};
}

}  // namespace airstrap::firstboot
