// airstrap.lock: what a mirror holds (every package and cloud image with its sha256 and
// size) and what it was made from (the site, its distro, the source media's hashes). Written
// by build_mirror; read here, leniently for a re-run's reuse, strictly for the media builders
// (open_site_repo) and for --verify.
#pragma once

#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "site/model.hpp"

namespace airstrap::mirror {

inline constexpr const char* lock_file_name = "airstrap.lock";

// The parts of a lock the media builders go by.
struct RepoLock {
    std::string site;    // the site it was mirrored for
    std::string distro;  // "el7", "el8", "el9"; empty when the lock does not say
    std::size_t packages = 0;
};

// A site repository (an `airstrap mirror` output) that passed the checks against the site.
struct SiteRepo {
    std::filesystem::path path;
    std::optional<RepoLock> lock;  // empty only with LockPolicy::optional and no lock there
};

enum class LockPolicy {
    required,  // no airstrap.lock or repodata: InputError
    optional,  // no airstrap.lock: nothing is checked (a plain repository, e.g. for qcow2)
};

// The one strict reader of a site repository's lock: repodata/repomd.xml and airstrap.lock
// present, the lock valid JSON, made for the site's distro. InputError naming the path and
// what to run otherwise.
SiteRepo open_site_repo(const site::Site& site, const std::filesystem::path& repo,
                        LockPolicy policy = LockPolicy::required);

// DIR/airstrap.lock as JSON, or null when it is missing or damaged: a previous output's
// lock only saves work, so a damaged one costs the reuse and nothing else.
nlohmann::json read_lock_or_null(const std::filesystem::path& dir);

// The sha256 of a source file, taken from the previous lock when its size and mtime are
// the same as then.
std::string source_sha256_cached(const std::filesystem::path& file, const nlohmann::json& old_lock);

struct VerifyReport {
    std::size_t checked = 0;            // packages
    std::size_t images_checked = 0;     // cloud images (images/)
    std::vector<std::string> problems;  // empty: every package and image matches airstrap.lock
};

// Re-checks every package and cloud image in DIR against DIR/airstrap.lock (sha256, size)
// and reports missing, changed and unlisted files.
VerifyReport verify_mirror(const std::filesystem::path& dir);

}  // namespace airstrap::mirror
