#include "kickstart/node_config.hpp"

#include <sys/stat.h>

#include "common/crypto.hpp"
#include "common/error.hpp"
#include "common/file_io.hpp"
#include "kickstart/node_setup.hpp"
#include "kickstart/render.hpp"
#include "node/layout.hpp"

namespace airstrap::kickstart {

std::filesystem::path write_node_config(const site::Site& site, const site::Secrets& secrets,
                                        const std::string& node,
                                        const std::filesystem::path& root) {
    std::vector<NodeFile> files = firstboot_files(site, secrets, node);
    std::filesystem::path dir = root / std::filesystem::path(node::config_dir).relative_path();
    std::filesystem::create_directories(dir);
    if (::chmod(dir.c_str(), 0700) != 0) throw SystemError("chmod " + dir.string(), errno);
    for (const NodeFile& f : files)
        write_file_atomic(root / std::filesystem::path(f.path).relative_path(), f.content, f.mode);
    return dir;
}

}  // namespace airstrap::kickstart
