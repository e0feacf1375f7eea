// Kickstart profiles, one per role: every install-time step of the seed procedure, in the
// site's distro dialect. One profile serves every node of its role: %pre recognises the
// machine by its MACs (or the kernel argument airstrap.node=NAME) and writes that node's
// network and disk lines. Same site and secrets in, same bytes out.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "site/model.hpp"
#include "site/secrets.hpp"

namespace airstrap::kickstart {

// The profile of one role, or (no role) the site profile that serves every node: its %pre
// also picks the node's role's packages. Boot menus default to the site profile.
std::string render_kickstart(const site::Site& site, const site::Secrets& secrets,
                             std::optional<site::Role> role);

// The site profile's file name beside the role profiles (<role>.ks).
inline constexpr const char* site_profile_name = "site.ks";

// Renders the profile of every role that has nodes and the site profile, then writes
// DIR/<role>.ks and DIR/site.ks (0600: they hold the root hash and the site secret), each
// through a temp file. Returns the paths.
std::vector<std::filesystem::path> write_kickstarts(const site::Site& site,
                                                    const site::Secrets& secrets,
                                                    const std::filesystem::path& dir);

}  // namespace airstrap::kickstart
