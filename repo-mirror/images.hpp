// The cloud's images (site.yaml cloud.images) in the site repository: each source file is
// copied to images/<file name> in the same build-then-swap as the packages and listed in
// airstrap.lock under "images" (path, name, source, size, mtime, sha256). The controller's
// day-1 step uploads them to Glance from its copy of the repository.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "site/model.hpp"

namespace airstrap::mirror {

struct ImageFile {
    std::string path;    // "images/<file name>", inside the repository
    std::string name;    // the image's name in the cloud
    std::string source;  // absolute, on the build host
    std::uint64_t size = 0;
    std::int64_t mtime = 0;
    std::string sha256;
};

// The site's images with size and sha256. A hash is taken from `old_lock` when the source's
// path, size and mtime are unchanged, so a re-run does not read big images again. A missing
// source is an InputError naming site.yaml:LINE:COL of its `source` and the resolved path.
std::vector<ImageFile> hash_images(const site::Site& site, const nlohmann::json& old_lock);

// Puts each image into `staging` (the new repository tree): hard-linked from `previous`
// (the output this run replaces) when the old lock lists the same path with the same sha256
// and the file there still has that size, otherwise copied and checked against the hash.
// Returns how many were reused.
std::size_t place_images(const std::vector<ImageFile>& images, const std::filesystem::path& staging,
                         const std::filesystem::path& previous, const nlohmann::json& old_lock);

// The lock's "images" list.
nlohmann::json images_lock(const std::vector<ImageFile>& images);

// Checks DIR's images against the lock's "images" (size, sha256) and reports missing,
// changed and unlisted files into `problems`; returns how many were checked. A lock without
// "images" (written before images were carried) lists none.
std::size_t verify_images(const std::filesystem::path& dir, const nlohmann::json& lock,
                          std::vector<std::string>& problems);

}  // namespace airstrap::mirror
