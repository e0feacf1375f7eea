// A yum repository in a local folder (an `airstrap mirror` output, or any createrepo_c
// output) read for the solver: repomd.xml and its primary, filelists and comps, each
// checked against repomd's checksums.
#pragma once

#include <filesystem>

#include "repo-mirror/closure.hpp"

namespace airstrap::mirror {

// InputError naming the file when repodata is missing, altered or unreadable.
RepoMetadata load_local_repo(const std::filesystem::path& dir);

}  // namespace airstrap::mirror
