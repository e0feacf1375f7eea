// Who this node is: its site (site.json), the site secret (site.key) and its own name
// (node), as the kickstart's %post or the image builder left them in /etc/airstrap.
#pragma once

#include <string>

#include "common/crypto.hpp"
#include "node/layout.hpp"
#include "node/site_json.hpp"

namespace airstrap::node {

struct Identity {
    Site site;
    crypto::Bytes secret;  // 32 bytes from site.key (hex)
    std::string node;      // this node's name
};

// site.key's content: the secret as 64 hex digits and a newline.
std::string site_key_text(const crypto::Bytes& secret);

// Reads site.json, site.key and node under `paths`; the node must be in the site.
// InputError naming the file otherwise.
Identity load_identity(const Paths& paths);

}  // namespace airstrap::node
