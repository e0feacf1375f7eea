#include "node/identity.hpp"

#include <filesystem>

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/text.hpp"
#include "node/credentials.hpp"

namespace airstrap::node {

Identity load_identity(const Paths& paths) {
    Identity id;
    id.site = parse_site_json(read_file(paths.site_json(), 16 << 20));
    id.node = text::trim(read_file(paths.node_file(), 4096));
    if (!id.site.node(id.node)) {
        throw InputError(paths.node_file().string() + ": '" + id.node +
                         "' is not a node of site '" + id.site.site.name + "' in " +
                         paths.site_json().string());
    }
    id.node_key = parse_key_file(read_file(paths.node_key(), 4096), paths.node_key().string(),
                                 "this node's key");
    std::error_code ec;
    bool has_site_key = std::filesystem::exists(paths.site_key(), ec);
    if (!id.is_controller()) {
        if (has_site_key)
            throw InputError(paths.site_key().string() +
                             ": only the controller holds the site secret; this node's media "
                             "were built by an older airstrap that put it on every node: "
                             "rebuild them, and treat the old media and this file as exposed");
        return id;
    }
    id.site_secret = parse_key_file(read_file(paths.site_key(), 4096), paths.site_key().string(),
                                    "the site secret");
    if (!crypto::equal_constant_time(node_key(id.site_secret, id.node), id.node_key))
        throw InputError(paths.node_key().string() + ": not the key that " +
                         paths.site_key().string() +
                         " gives this node (files of two builds mixed?): rebuild the media");
    if (crypto::to_hex(controller_public_key(id.site_secret)) != id.site.firstboot.controller_key)
        throw InputError(
            paths.site_json().string() + ": firstboot.controller_key is not the public key of " +
            paths.site_key().string() + " (files of two builds mixed?): rebuild the media");
    return id;
}

}  // namespace airstrap::node
