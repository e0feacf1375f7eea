#include "firstboot/enrol.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <set>

#include "common/error.hpp"
#include "node/credentials.hpp"

namespace airstrap::firstboot {

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// The enrolment port (TCP) and the beacons' (UDP); site.json's reader keeps it in 1…65535.
std::uint16_t port_of(const node::Identity& id) {
    return static_cast<std::uint16_t>(id.site.firstboot.port);
}

constexpr auto session_timeout = 10s;
constexpr int max_connections = 256;

crypto::Bytes controller_key_of(const node::Identity& id) {
    crypto::Bytes key;
    if (!crypto::from_hex(id.site.firstboot.controller_key, key) || key.size() != 32) return {};
    return key;
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

std::vector<KnownHost> known_hosts_from_roster(const node::Site& site, const json& roster) {
    std::map<std::string, std::vector<std::string>> keys;
    const json* nodes = roster.is_object() && roster.contains("nodes") ? &roster["nodes"] : nullptr;
    if (!nodes || !nodes->is_array())
        throw proto::ProtocolError("the controller's roster has no node list");
    for (const auto& n : *nodes) {
        if (!n.is_object() || !n.contains("name") || !n["name"].is_string()) continue;
        std::string name = n["name"].get<std::string>();
        if (!site.node(name) || keys.count(name)) continue;
        const json& hk = n.value("host_keys", json::array());
        if (!hk.is_array() || hk.size() > proto::max_host_keys)
            throw proto::ProtocolError("the controller's roster: bad host keys for " + name);
        std::vector<std::string> ks;
        for (const auto& k : hk) {
            if (!k.is_string())
                throw proto::ProtocolError("the controller's roster: bad host keys for " + name);
            ks.push_back(proto::normalise_host_key(k.get<std::string>()));
        }
        std::sort(ks.begin(), ks.end());
        ks.erase(std::unique(ks.begin(), ks.end()), ks.end());
        keys[name] = std::move(ks);
    }
    std::vector<KnownHost> out;
    for (const auto& n : site.nodes) {
        auto k = keys.find(n.name);
        if (k == keys.end() || k->second.empty()) continue;
        KnownHost h;
        h.names = {n.name, site.fqdn(n), site.address(n)};
        std::sort(h.names.begin(), h.names.end());
        h.names.erase(std::unique(h.names.begin(), h.names.end()), h.names.end());
        h.keys = k->second;
        out.push_back(std::move(h));
    }
    return out;
}

EnrolClient::EnrolClient(const node::Identity& id, std::vector<std::string> host_keys,
                         Traffic& traffic)
    : id_(id),
      keys_(proto::derive_node_keys(id.node_key)),
      controller_key_(controller_key_of(id)),
      host_keys_(std::move(host_keys)),
      traffic_(traffic),
      udp_(net::udp_sender()) {}

EnrolClient::Reply EnrolClient::request(proto::Purpose purpose, const json& body) {
    const node::Node& self = *id_.site.node(id_.node);
    const node::Node& controller = id_.site.controller();
    if (controller_key_.empty())
        throw proto::ProtocolError(
            "site.json has no valid firstboot.controller_key (64 hex digits): this node cannot "
            "tell the real controller from another host; rebuild its media with this airstrap");
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
    if (!proto::verify_challenge(controller_key_, hello, challenge)) {
        throw proto::ProtocolError(
            "the host answering at " + id_.site.address(controller) +
            " is not this site's controller: its signature does not verify against site.json's "
            "firstboot.controller_key (another host on its address, or media built for another "
            "site); nothing it sent was used");
    }
    proto::Response response{proto::node_proof(keys_, hello, challenge)};
    net::write_frame(s, proto::encode(response), deadline);
    ++traffic_.frames;

    proto::Result result = proto::decode_result(net::read_frame(s, deadline));
    ++traffic_.frames;
    if (!proto::verify_result(controller_key_, hello, challenge, response, result))
        throw proto::ProtocolError(
            "the answer from " + id_.site.address(controller) +
            " does not carry the controller's signature (tampered with on the way?); ignored");
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
                         Traffic& traffic, std::vector<std::string> replaced_root_keys)
    : id_(id),
      state_(state),
      signing_seed_(node::controller_signing_seed(id.site_secret)),
      host_keys_(std::move(host_keys)),
      root_public_key_(std::move(root_public_key)),
      replaced_root_keys_(std::move(replaced_root_keys)),
      log_(log),
      traffic_(traffic) {}

std::optional<proto::NodeKeys> EnrolServer::node_keys(const std::string& name) const {
    const node::Node* n = id_.site.node(name);
    if (!n || n->role == node::Role::controller) return std::nullopt;
    return proto::derive_node_keys(node::node_key(id_.site_secret, name));
}

EnrolServer::~EnrolServer() {
    stop();
}

void EnrolServer::start() {
    const node::Node& self = id_.site.controller();
    listener_ = net::listen_tcp(id_.site.address(self), port_of(id_));
    udp_ = net::bind_udp(port_of(id_));
    acceptor_ = std::thread([this] { accept_loop(); });
    beacons_ = std::thread([this] { beacon_loop(); });
    log_.info("listening for enrolment on " + id_.site.address(self) + ":" +
              std::to_string(port_of(id_)) + " (TCP) and beacons on UDP port " +
              std::to_string(port_of(id_)));
}

void EnrolServer::stop() {
    stop_ = true;
    if (acceptor_.joinable()) acceptor_.join();
    if (beacons_.joinable()) beacons_.join();
    while (active_ > 0) std::this_thread::sleep_for(10ms);
}

void EnrolServer::accept_loop() {
    while (!stop_) {
        std::string peer;
        net::Socket s = net::accept_tcp(listener_, 200ms, peer);
        if (!s) continue;
        if (active_ >= max_connections) {
            log_.warn("too many enrolment sessions at once; dropped one from " + peer);
            continue;
        }
        ++active_;
        std::thread([this, sock = std::move(s), peer]() mutable {
            serve(std::move(sock), peer);
            --active_;
        }).detach();
    }
}

void EnrolServer::beacon_loop() {
    std::deque<std::string> recent;
    std::set<std::string> seen;
    std::map<std::string, std::chrono::steady_clock::time_point> warned;
    while (!stop_) {
        std::string data, peer;
        if (!net::receive_udp(udp_, 200ms, data, peer)) continue;
        try {
            proto::Beacon b = proto::decode_beacon(data);
            ++traffic_.beacons;
            std::string nonce = crypto::to_hex(b.nonce);
            if (seen.count(nonce)) continue;  // a replay or the broadcast copy of a unicast one
            seen.insert(nonce);
            recent.push_back(nonce);
            if (recent.size() > 4096) {
                seen.erase(recent.front());
                recent.pop_front();
            }
            auto keys = node_keys(b.node);
            if (!keys) continue;
            if (!proto::verify_beacon(*keys, b)) {
                auto now = std::chrono::steady_clock::now();
                auto& last = warned[b.node];
                if (now - last > 60s) {
                    last = now;
                    log_.warn("beacon from " + peer + " naming " + b.node +
                              " does not verify: that node has another site secret (media "
                              "built for another site?)");
                }
                state_.refused(b.node, peer,
                               "its beacons do not verify: the node's site secret differs "
                               "from the controller's (rebuild its media from this site)");
                continue;
            }
            state_.seen(b.node, peer);
        } catch (const std::exception&) {
            // Not ours, or malformed: beacons are hints, nothing to answer.
        }
    }
}

void EnrolServer::serve(net::Socket s, std::string peer) {
    auto deadline = net::Clock::now() + session_timeout;
    std::string who = peer;
    try {
        ++traffic_.sessions;
        proto::Hello hello = proto::decode_hello(net::read_frame(s, deadline));
        ++traffic_.frames;
        who = hello.node + " (" + peer + ")";
        proto::Challenge challenge;
        challenge.nonce = crypto::random_bytes(proto::nonce_size);
        challenge.host_keys = host_keys_;
        challenge.sig = proto::sign_challenge(signing_seed_, hello, challenge);
        net::write_frame(s, proto::encode(challenge), deadline);
        ++traffic_.frames;
        proto::Response response = proto::decode_response(net::read_frame(s, deadline));
        ++traffic_.frames;
        // A name that is not a site node's has no key: refused exactly like a wrong proof,
        // so that the answer does not tell which names exist.
        auto keys = node_keys(hello.node);
        bool proven = keys && proto::verify_node(*keys, hello, challenge, response);
        proto::Result result;
        if (!proven) {
            const std::string why =
                "its proof does not verify: its /etc/airstrap/node.key is not the key of '" +
                hello.node +
                "' on this site (media built for another site or node, or tampered with); "
                "rebuild its media from this site";
            log_.warn(who + ": refused: " + why);
            if (keys) state_.refused(hello.node, peer, why);
            result.ok = false;
            result.error = why;
        } else {
            result = handle(hello, peer);
        }
        result.sig = proto::sign_result(signing_seed_, hello, challenge, response, result);
        net::write_frame(s, proto::encode(result), deadline);
        ++traffic_.frames;
    } catch (const std::exception& e) {
        // The node retries; a session that breaks off changes nothing.
        log_.warn("enrolment session with " + who + " abandoned: " + describe(e));
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
        }
        r.ok = true;
        r.body =
            json{{"controller_key", root_public_key_}, {"replaces", replaced_root_keys_}}.dump();
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
            {"replaces", replaced_root_keys_},
            {"nodes", nodes}};
}

}  // namespace airstrap::firstboot
