// Who this node is: its site (site.json), its own name (node) and key (node.key), and on the
// controller the site secret (site.key), as the kickstart's %post or the image builder left
// them in /etc/airstrap. See credentials.hpp for who holds what.
#pragma once

#include <string>

#include "common/crypto.hpp"
#include "node/layout.hpp"
#include "node/site_json.hpp"

namespace airstrap::node {

struct Identity {
    Site site;
    std::string node;           // this node's name
    crypto::Bytes node_key;     // 32 bytes from node.key
    crypto::Bytes site_secret;  // 32 bytes from site.key on the controller; empty elsewhere

    bool is_controller() const { return node == site.controller().name; }
};

// Reads site.json, node and node.key under `paths`, and on the controller site.key. InputError
// naming the file when: the node is not in the site; a key file is not 32 bytes of hex; the
// controller's site.key does not give its node.key and site.json's controller_key (media of
// two builds mixed); a node other than the controller holds a site.key (older media that
// carried the site secret everywhere: rebuild them).
Identity load_identity(const Paths& paths);

}  // namespace airstrap::node
