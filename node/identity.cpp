#include "node/identity.hpp"

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/text.hpp"

namespace airstrap::node {

std::string site_key_text(const crypto::Bytes& secret) {
    return crypto::to_hex(secret) + "\n";
}

Identity load_identity(const Paths& paths) {
    Identity id;
    id.site = parse_site_json(read_file(paths.site_json(), 16 << 20));
    std::string key = text::trim(read_file(paths.site_key(), 4096));
    if (!crypto::from_hex(key, id.secret) || id.secret.size() != 32) {
        throw InputError(paths.site_key().string() +
                         ": expected the site secret as 64 hex digits (written by the kickstart)");
    }
    id.node = text::trim(read_file(paths.node_file(), 4096));
    if (!id.site.node(id.node)) {
        throw InputError(paths.node_file().string() + ": '" + id.node +
                         "' is not a node of site '" + id.site.site.name + "' in " +
                         paths.site_json().string());
    }
    return id;
}

}  // namespace airstrap::node
