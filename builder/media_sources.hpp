// What the install media start from: the vendor DVD (--iso, or the site's media.vendor_iso)
// and the site repository (--repo), each checked against the site before anything is
// written. `build iso` and `build pxe` share it; they call its steps in this order, with
// their own option checks in between, so that every message keeps its place.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "builder/vendor_media.hpp"
#include "repo-mirror/lock.hpp"
#include "site/model.hpp"

namespace airstrap::builder {

class MediaSources {
  public:
    // Names both; InputError when either is missing. Reads nothing.
    MediaSources(const site::Site& site, const std::filesystem::path& vendor_iso,
                 const std::filesystem::path& repo);

    // The site repository and its airstrap.lock, checked against the site.
    void open_repo();
    // The vendor DVD, read in place and matched to the site's distro.
    void read_vendor(const std::function<void(const std::string&)>& log);

    const std::filesystem::path& vendor_path() const { return vendor_path_; }
    const VendorMedia& vendor() const { return vendor_; }
    const mirror::SiteRepo& repo() const { return repo_; }

  private:
    const site::Site& site_;
    std::filesystem::path vendor_path_;
    mirror::SiteRepo repo_;
    VendorMedia vendor_;
};

}  // namespace airstrap::builder
