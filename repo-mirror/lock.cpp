#include "repo-mirror/lock.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <set>

#include "common/checksum.hpp"
#include "common/error.hpp"
#include "common/file_io.hpp"
#include "repo-mirror/images.hpp"
#include "repo-mirror/tree.hpp"

namespace airstrap::mirror {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::size_t max_lock_bytes = 256u << 20;

}  // namespace

SiteRepo open_site_repo(const site::Site& site, const fs::path& repo, LockPolicy policy) {
    SiteRepo out{repo, std::nullopt};
    if (policy == LockPolicy::optional && !fs::exists(repo / lock_file_name)) return out;
    if (!fs::is_regular_file(repo / "repodata" / "repomd.xml") ||
        !fs::is_regular_file(repo / lock_file_name)) {
        throw InputError(repo.string() +
                         ": not a site repository (no repodata/repomd.xml or airstrap.lock); "
                         "make one with 'airstrap mirror SITE -o " +
                         repo.string() + "'");
    }
    json lock;
    try {
        lock = json::parse(read_file(repo / lock_file_name, max_lock_bytes));
    } catch (const json::exception& e) {
        throw InputError((repo / lock_file_name).string() + ": not valid JSON (" + e.what() + ")");
    }
    RepoLock parsed;
    parsed.distro = lock.value("distro", "");
    parsed.site = lock.value("site", "");
    if (lock.contains("packages") && lock["packages"].is_array())
        parsed.packages = lock["packages"].size();
    if (parsed.distro != site::to_string(site.distro)) {
        throw InputError(
            repo.string() + " was mirrored for " +
            (parsed.distro.empty() ? std::string("an unknown distro") : parsed.distro) +
            ", the site is " + site::to_string(site.distro) +
            ": run 'airstrap mirror' again for this site");
    }
    out.lock = std::move(parsed);
    return out;
}

json read_lock_or_null(const fs::path& dir) {
    std::error_code ec;
    if (!fs::exists(dir / lock_file_name, ec)) return json();
    try {
        return json::parse(read_file(dir / lock_file_name, max_lock_bytes));
    } catch (const std::exception&) {
        return json();  // a damaged lock only costs the reuse
    }
}

std::string source_sha256_cached(const fs::path& file, const json& old_lock) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) throw SystemError("cannot stat " + file.string(), errno);
    if (old_lock.is_object() && old_lock.contains("sources")) {
        for (const auto& s : old_lock["sources"]) {
            if (s.value("location", "") == file.string() &&
                s.value("size", std::uint64_t{0}) == static_cast<std::uint64_t>(st.st_size) &&
                s.value("mtime", std::int64_t{0}) == static_cast<std::int64_t>(st.st_mtime) &&
                s.contains("sha256")) {
                return s["sha256"].get<std::string>();
            }
        }
    }
    return file_checksum_hex(ChecksumType::sha256, file);
}

VerifyReport verify_mirror(const fs::path& dir) {
    VerifyReport report;
    json lock = read_lock_or_null(dir);
    if (!lock.is_object() || !lock.contains("packages")) {
        throw InputError((dir / lock_file_name).string() +
                         ": missing or unreadable; is this an airstrap mirror?");
    }
    std::set<std::string> listed;
    for (const auto& p : lock["packages"]) {
        std::string path = p.value("path", "");
        listed.insert(path);
        ++report.checked;
        if (!is_safe_relative_path(path)) {
            report.problems.push_back(path + ": unsafe path in the lock");
            continue;
        }
        fs::path file = dir / path;
        std::error_code ec;
        if (!fs::is_regular_file(file, ec)) {
            report.problems.push_back(path + ": missing");
            continue;
        }
        if (fs::file_size(file, ec) != p.value("size", std::uint64_t{0})) {
            report.problems.push_back(path + ": size differs from the lock");
            continue;
        }
        if (file_checksum_hex(ChecksumType::sha256, file) != p.value("sha256", "")) {
            report.problems.push_back(path + ": sha256 differs from the lock");
        }
    }
    report.images_checked = verify_images(dir, lock, report.problems);
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir / "Packages", ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file()) continue;
        std::string rel = it->path().lexically_relative(dir).generic_string();
        if (!listed.contains(rel)) report.problems.push_back(rel + ": not in the lock");
    }
    return report;
}

}  // namespace airstrap::mirror
