// The repository mirror: from the site's media (vendor ISO, repo tarballs, folders) to one
// self-contained repository that the install media carry, with airstrap.lock listing every
// package, cloud image and the source media's hashes. Built beside the output and swapped
// into place.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "repo-mirror/fetch.hpp"
#include "repo-mirror/lock.hpp"
#include "repo-mirror/repodata.hpp"
#include "site/model.hpp"

namespace airstrap::mirror {

struct MirrorOptions {
    std::filesystem::path output;
    std::optional<site::Role> role;  // only this role's packages
    bool all = false;                // every package of every source, no solving
    std::optional<bool> weak_deps;   // overrides the site's packages.weak_deps
    int jobs = 8;
    // Read the sources and select the packages (every role's closure), then stop: nothing
    // fetched or written, `output` may be empty; the summary says what would be mirrored.
    bool dry_run = false;
    MetadataPolicy metadata;
    std::function<void(const std::string&)> log;         // one line per step
    std::function<void(const FetchProgress&)> progress;  // while fetching over HTTP(S)
};

struct MirrorSummary {
    std::size_t packages = 0;
    std::uint64_t bytes = 0;
    std::size_t reused = 0;  // taken from the previous output (hard link), not copied again
    std::map<std::string, std::size_t> per_role;  // role → package count of its closure
    std::vector<std::string> sources;
    std::vector<std::string> unsigned_packages;  // file names; refused when signatures are required
    std::size_t verified_signatures = 0;
    std::size_t images = 0;         // cloud.images carried in images/
    std::size_t images_reused = 0;  // hard-linked from the previous output
};

MirrorSummary build_mirror(const site::Site& site, const MirrorOptions& options);

// Packages Anaconda adds by itself (kernel, bootloaders, file-system tools …), by distro.
std::vector<std::string> installer_packages(site::Distro distro);

}  // namespace airstrap::mirror
