#include "builder/media_sources.hpp"

#include "common/error.hpp"

namespace airstrap::builder {

namespace fs = std::filesystem;

MediaSources::MediaSources(const site::Site& site, const fs::path& vendor_iso, const fs::path& repo)
    : site_(site),
      vendor_path_(vendor_iso.empty() ? fs::path(site.media.vendor_iso) : vendor_iso),
      repo_{repo, std::nullopt} {
    if (vendor_path_.empty()) {
        throw InputError("no vendor DVD: name it with --iso or media.vendor_iso in the site file");
    }
    if (repo.empty()) {
        throw InputError(
            "no site repository: make one with 'airstrap mirror' and name it with --repo");
    }
}

void MediaSources::open_repo() {
    repo_ = mirror::open_site_repo(site_, repo_.path);
}

void MediaSources::read_vendor(const std::function<void(const std::string&)>& log) {
    if (log) log("reading " + vendor_path_.string());
    vendor_ = inspect_vendor_iso(vendor_path_);
    check_media_matches(vendor_, site_.distro);
}

}  // namespace airstrap::builder
