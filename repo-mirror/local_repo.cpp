#include "repo-mirror/local_repo.hpp"

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "repo-mirror/repodata.hpp"
#include "repo-mirror/tree.hpp"

namespace airstrap::mirror {

RepoMetadata load_local_repo(const std::filesystem::path& dir) {
    if (!std::filesystem::is_regular_file(dir / "repodata/repomd.xml")) {
        throw InputError(dir.string() +
                         " is not a yum repository (no repodata/repomd.xml); give an "
                         "'airstrap mirror' output");
    }
    MetadataPolicy policy;
    std::string name = dir.string();
    RepoMd md = parse_repomd(read_file(dir / "repodata/repomd.xml", 16 << 20),
                             name + ": repodata/repomd.xml", policy);
    RepoMetadata meta;
    meta.name = name;
    auto load = [&](const RepoMdRecord* r) -> std::string {
        if (!r) return {};
        if (!is_safe_relative_path(r->href))
            throw InputError(name + ": repomd.xml names an unsafe path " + r->href);
        std::string raw = read_file(dir / r->href, policy.max_open_bytes);
        return verify_and_open(*r, raw, name + ": " + r->href, policy);
    };
    meta.primary = load(md.find("primary"));
    if (meta.primary.empty()) throw InputError(name + ": repomd.xml lists no primary metadata");
    meta.filelists = load(md.find("filelists"));
    const RepoMdRecord* group = md.find("group");
    meta.comps = load(group ? group : md.find("group_gz"));
    return meta;
}

}  // namespace airstrap::mirror
