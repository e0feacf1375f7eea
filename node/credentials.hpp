// Who holds which key. The site secret (32 bytes, secrets.yaml) stays on the build machine
// and the controller; everything else is derived from it, one HKDF-SHA256 purpose each:
//
//   node key        one per node name; in that node's media (node.key) and derivable by the
//                   controller. It proves that node's identity to the controller, nothing else.
//   signing seed    the controller's Ed25519 private key; only the controller holds it (it
//                   holds the site secret). Its public half is in every node's site.json.
//   report key      one per node, from its node key: its PXE install report (PXE tree).
//   sealing keys    deploy.sealed (deploy_config.hpp), opened only on the controller.
//
// Derivation, not generation, so that media rebuilt for one reinstalled node trust the same
// controller and carry the same node key without any other state kept on the build machine.
#pragma once

#include <string>
#include <string_view>

#include "common/crypto.hpp"

namespace airstrap::node {

inline constexpr std::size_t key_size = 32;

// The key of node `name`: HKDF-SHA256(site secret, salt "airstrap credentials v2",
// info "node key\0" name).
crypto::Bytes node_key(const crypto::Bytes& site_secret, std::string_view name);
// The controller's Ed25519 private seed: HKDF-SHA256(site secret, same salt,
// info "controller signing key").
crypto::Bytes controller_signing_seed(const crypto::Bytes& site_secret);
crypto::Bytes controller_public_key(const crypto::Bytes& site_secret);

// The key a network install reports "installed" with (the PXE tree's service holds it, the
// node's PXE kickstart too): HKDF-SHA256(node key, same salt, info "pxe install report"). One
// way from the node key: the PXE service can verify a node's report and do nothing else.
crypto::Bytes install_report_key(const crypto::Bytes& node_key);

// A key file's content (node.key, site.key): 64 hex digits and a newline.
std::string key_file_text(const crypto::Bytes& key);
// The key in such a file; InputError naming `path` if it is not 32 bytes of hex.
crypto::Bytes parse_key_file(const std::string& text, const std::string& path,
                             const std::string& what);

}  // namespace airstrap::node
