// Enrolment over the network: the node's side (one authenticated request per TCP session,
// beacons) and the controller's server (TCP sessions and UDP beacons, one thread each, a
// short-lived thread per connection). The rules are in protocol.hpp; the decisions about
// pins and rejoin windows in site_state.hpp.
#pragma once

#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "firstboot/log.hpp"
#include "firstboot/net.hpp"
#include "firstboot/protocol.hpp"
#include "firstboot/site_state.hpp"
#include "firstboot/steps.hpp"
#include "node/identity.hpp"

namespace airstrap::firstboot {

// Counted for the benchmark and the final log line.
struct Traffic {
    std::atomic<int> sessions{0}, frames{0}, beacons{0};
};

nlohmann::json steps_to_json(const std::vector<StepRecord>& steps);
std::vector<StepRecord> steps_from_json(const nlohmann::json& j);  // ProtocolError if malformed

// ssh_known_hosts' entries from a verified roster: the names and addresses of `site` (the
// node's own site.json), with the roster's host keys for those nodes only (normalised; an
// entry for any other name is ignored, a node without keys left out). ProtocolError for a
// roster without a node list or with something other than key lines.
std::vector<KnownHost> known_hosts_from_roster(const node::Site& site,
                                               const nlohmann::json& roster);

class EnrolClient {
  public:
    EnrolClient(const node::Identity& id, std::vector<std::string> host_keys, Traffic& traffic);

    struct Reply {
        bool ok = false;
        std::string error;  // the controller's reason for a refusal
        nlohmann::json body;
    };
    // One session. Throws SystemError (network) or ProtocolError (bad or unverifiable reply:
    // a controller whose signatures do not verify against site.json's controller_key is
    // never believed, and nothing from it is returned).
    Reply request(proto::Purpose purpose, const nlohmann::json& body);
    void beacon();  // best effort, to the controller and the management broadcast address

  private:
    const node::Identity& id_;
    proto::NodeKeys keys_;
    crypto::Bytes controller_key_;  // site.json firstboot.controller_key; empty if invalid
    std::vector<std::string> host_keys_;
    Traffic& traffic_;
    net::Socket udp_;
};

class EnrolServer {
  public:
    // `replaced_root_keys`: root keys of this controller's that root_public_key replaces
    // (a signed rotation: nodes that installed one of them swap it for the new one).
    EnrolServer(const node::Identity& id, SiteState& state, std::vector<std::string> host_keys,
                std::string root_public_key, Log& log, Traffic& traffic,
                std::vector<std::string> replaced_root_keys = {});
    ~EnrolServer();
    void start();  // binds now: SystemError if the port is taken
    void stop();

    // The roster as nodes receive it (also used by the controller for its own known_hosts):
    // each site node's name and pinned host keys, and the controller's root key.
    nlohmann::json roster() const;
    // The node keys of a name (derived from the site secret; a name that is not a site
    // node's gets nullopt: it cannot prove anything).
    std::optional<proto::NodeKeys> node_keys(const std::string& name) const;

  private:
    void accept_loop();
    void beacon_loop();
    void serve(net::Socket s, std::string peer);
    proto::Result handle(const proto::Hello& hello, const std::string& peer);

    const node::Identity& id_;
    SiteState& state_;
    crypto::Bytes signing_seed_;  // the controller's Ed25519 seed (from the site secret)
    std::vector<std::string> host_keys_;
    std::string root_public_key_;
    std::vector<std::string> replaced_root_keys_;
    Log& log_;
    Traffic& traffic_;
    net::Socket listener_, udp_;
    std::atomic<bool> stop_{false};
    std::atomic<int> active_{0};
    std::thread acceptor_, beacons_;
};

}  // namespace airstrap::firstboot
