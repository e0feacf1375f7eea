#include "node/credentials.hpp"

#include "common/error.hpp"
#include "common/text.hpp"

namespace airstrap::node {

namespace {

constexpr std::string_view salt = "airstrap credentials v2";

void check_secret(const crypto::Bytes& site_secret) {
    if (site_secret.size() != key_size) throw Error("the site secret must be 32 bytes");
}

}  // namespace

crypto::Bytes node_key(const crypto::Bytes& site_secret, std::string_view name) {
    check_secret(site_secret);
    if (name.empty()) throw Error("a node key needs the node's name");
    std::string info = "node key";
    info += '\0';
    info += name;
    return crypto::hkdf_sha256(site_secret, salt, info, key_size);
}

crypto::Bytes controller_signing_seed(const crypto::Bytes& site_secret) {
    check_secret(site_secret);
    return crypto::hkdf_sha256(site_secret, salt, "controller signing key", key_size);
}

crypto::Bytes controller_public_key(const crypto::Bytes& site_secret) {
    return crypto::ed25519_public_key(controller_signing_seed(site_secret));
}

crypto::Bytes install_report_key(const crypto::Bytes& node_key) {
    if (node_key.size() != key_size) throw Error("a node key must be 32 bytes");
    return crypto::hkdf_sha256(node_key, salt, "pxe install report", key_size);
}

std::string key_file_text(const crypto::Bytes& key) {
    return crypto::to_hex(key) + "\n";
}

crypto::Bytes parse_key_file(const std::string& text, const std::string& path,
                             const std::string& what) {
    crypto::Bytes key;
    if (!crypto::from_hex(text::trim(text), key) || key.size() != key_size)
        throw InputError(path + ": expected " + what +
                         " as 64 hex digits (written by the kickstart or airstrap node-config)");
    return key;
}

}  // namespace airstrap::node
