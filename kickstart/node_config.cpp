#include "kickstart/node_config.hpp"

#include <sys/stat.h>

#include "common/crypto.hpp"
#include "common/error.hpp"
#include "common/file_io.hpp"
#include "deploy/answers.hpp"
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
    bool known = false;
    std::string names;
    for (const auto& n : site.nodes) {
        known = known || n.name == node;
        names += (names.empty() ? "" : ", ") + n.name;
    }
    if (!known)
        throw InputError("'" + node + "' is not a node of site " + site.name + " (" + names + ")");
    std::filesystem::path dir = root / std::filesystem::path(node_config_dir).relative_path();
    std::filesystem::create_directories(dir);
    if (::chmod(dir.c_str(), 0700) != 0) throw SystemError("chmod " + dir.string(), errno);
    write_file_atomic(dir / "site.json", site_json_text(site), 0644);
    write_file_atomic(dir / "site.key", site_key_text(secrets), 0600);
    write_file_atomic(dir / "node", node + "\n", 0644);
    const site::Node* controller = site.controller();
    if (controller && controller->name == node) {
        write_file_atomic(dir / std::filesystem::path(deploy::deploy_config_file).filename(),
                          deploy::seal_deploy_config(deploy::deploy_config_for(site, secrets),
                                                     secrets.site_secret),
                          0600);
    }
    return dir;
}

}  // namespace airstrap::kickstart
