// The site as an installed node reads it (/etc/airstrap/site.json, node/site_json.hpp),
// filled from the site model: no secrets, nothing the node does not use. The controller's
// public key comes from node::controller_public_key(the site secret).
#pragma once

#include "common/crypto.hpp"
#include "node/site_json.hpp"
#include "site/model.hpp"
#include "site/secrets.hpp"

namespace airstrap::site {

node::Site node_site(const Site& site, const crypto::Bytes& controller_public_key);
// The same, with the key derived from `secrets`.
node::Site node_site(const Site& site, const Secrets& secrets);

}  // namespace airstrap::site
