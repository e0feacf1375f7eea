#include "repo-mirror/images.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "common/checksum.hpp"
#include "common/error.hpp"
#include "common/file_io.hpp"
#include "repo-mirror/tree.hpp"

namespace airstrap::mirror {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const json& lock_images(const json& lock) {
    static const json none = json::array();
    if (!lock.is_object()) return none;
    auto it = lock.find("images");
    return it != lock.end() && it->is_array() ? *it : none;
}

}  // namespace

std::vector<ImageFile> hash_images(const site::Site& site, const json& old_lock) {
    std::vector<ImageFile> out;
    for (std::size_t i = 0; i < site.cloud.images.size(); ++i) {
        const site::CloudImage& image = site.cloud.images[i];
        ImageFile f;
        f.path = image.file();
        f.name = image.name;
        f.source = image.source;
        struct stat st {};
        int rc = ::stat(f.source.c_str(), &st);
        int err = errno;
        if (rc != 0 || !S_ISREG(st.st_mode)) {
            std::string why = rc != 0 ? std::strerror(err) : "not a regular file";
            throw InputError(site.file + ":" + std::to_string(image.source_at.line) + ":" +
                             std::to_string(image.source_at.column) + ": image " + image.name +
                             ": cannot read " + f.source + " (" + why +
                             "); put the image file there or correct cloud.images[" +
                             std::to_string(i) + "].source");
        }
        f.size = static_cast<std::uint64_t>(st.st_size);
        f.mtime = static_cast<std::int64_t>(st.st_mtime);
        for (const auto& old : lock_images(old_lock)) {
            if (old.value("source", "") == f.source &&
                old.value("size", std::uint64_t{0}) == f.size &&
                old.value("mtime", std::int64_t{0}) == f.mtime && old.contains("sha256")) {
                f.sha256 = old.value("sha256", "");
            }
        }
        if (f.sha256.empty()) f.sha256 = file_checksum_hex(ChecksumType::sha256, f.source);
        out.push_back(std::move(f));
    }
    return out;
}

std::size_t place_images(const std::vector<ImageFile>& images, const fs::path& staging,
                         const fs::path& previous, const json& old_lock) {
    std::size_t reused = 0;
    for (const auto& image : images) {
        fs::path dest = staging / image.path;
        fs::create_directories(dest.parent_path());
        bool vouched = false;
        for (const auto& old : lock_images(old_lock)) {
            vouched = vouched || (old.value("path", "") == image.path &&
                                  old.value("sha256", "") == image.sha256 &&
                                  old.value("size", std::uint64_t{0}) == image.size);
        }
        std::error_code ec;
        if (vouched && fs::file_size(previous / image.path, ec) == image.size && !ec &&
            ::link((previous / image.path).c_str(), dest.c_str()) == 0) {
            ++reused;
            continue;
        }
        AtomicFile out(dest, 0644);
        Hasher sha256(ChecksumType::sha256);
        for_each_block(image.source, [&](const char* data, std::size_t n) {
            sha256.update(data, n);
            out.write({data, n});
        });
        if (sha256.hex_digest() != image.sha256) {
            throw InputError(image.source +
                             ": changed while airstrap mirror was reading it; run "
                             "again once nothing writes to it");
        }
        out.commit();
    }
    return reused;
}

json images_lock(const std::vector<ImageFile>& images) {
    json list = json::array();
    for (const auto& i : images) {
        list.push_back({{"path", i.path},
                        {"name", i.name},
                        {"source", i.source},
                        {"size", i.size},
                        {"mtime", i.mtime},
                        {"sha256", i.sha256}});
    }
    return list;
}

std::size_t verify_images(const fs::path& dir, const json& lock,
                          std::vector<std::string>& problems) {
    std::size_t checked = 0;
    std::set<std::string> listed;
    for (const auto& i : lock_images(lock)) {
        std::string path = i.is_object() ? i.value("path", "") : "";
        listed.insert(path);
        ++checked;
        if (!is_safe_relative_path(path)) {
            problems.push_back(path + ": unsafe path in the lock");
            continue;
        }
        fs::path file = dir / path;
        std::error_code ec;
        if (!fs::is_regular_file(file, ec)) {
            problems.push_back(path + ": missing");
            continue;
        }
        if (fs::file_size(file, ec) != i.value("size", std::uint64_t{0})) {
            problems.push_back(path + ": size differs from the lock");
            continue;
        }
        if (file_checksum_hex(ChecksumType::sha256, file) != i.value("sha256", "")) {
            problems.push_back(path + ": sha256 differs from the lock");
        }
    }
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir / "images", ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file()) continue;
        std::string rel = it->path().lexically_relative(dir).generic_string();
        if (!listed.contains(rel)) problems.push_back(rel + ": not in the lock");
    }
    return checked;
}

}  // namespace airstrap::mirror
