#include "kickstart/node_config.hpp"

#include <sys/stat.h>

#include "common/crypto.hpp"
#include "common/error.hpp"
#include "common/file_io.hpp"
#include "kickstart/node_setup.hpp"
#include "kickstart/render.hpp"
#include "site/site_json.hpp"

namespace airstrap::kickstart {

std::string site_json_text(const site::Site& site) {
    return site::to_json(site).dump(1) + "\n";
}

std::string site_key_text(const site::Secrets& secrets) {
    return crypto::to_hex(secrets.site_secret) + "\n";
}

std::filesystem::path write_node_config(const site::Site& site, const site::Secrets& secrets,
                                        const std::string& node,
                                        const std::filesystem::path& root) {
    std::vector<NodeFile> files = firstboot_files(site, secrets, node);
    std::filesystem::path dir = root / std::filesystem::path(node_config_dir).relative_path();
    std::filesystem::create_directories(dir);
    if (::chmod(dir.c_str(), 0700) != 0) throw SystemError("chmod " + dir.string(), errno);
    for (const NodeFile& f : files)
        write_file_atomic(root / std::filesystem::path(f.path).relative_path(), f.content, f.mode);
    return dir;
}

}  // namespace airstrap::kickstart
