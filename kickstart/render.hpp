// Kickstart profiles, one per role: every install-time step of the seed procedure, in the
// site's distro dialect. One profile serves every node of its role: %pre recognises the
// machine by its MACs (or the kernel argument airstrap.node=NAME) and writes that node's
// network and disk lines. Same site and secrets in, same bytes out.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/crypto.hpp"
#include "site/model.hpp"
#include "site/secrets.hpp"

namespace airstrap::kickstart {

// The profile of one role, or (no role) the site profile that serves every node: its %pre
// also picks the node's role's packages. Boot menus default to the site profile.
std::string render_kickstart(const site::Site& site, const site::Secrets& secrets,
                             std::optional<site::Role> role);

// A PXE install's report to `airstrap serve` (provision/service.hpp): the last %post asks
// the service for a nonce, signs "airstrap install report v1\nNODE\nNONCE\nTIME" with `key`
// (HMAC-SHA256, openssl) and posts it, so that the node's next network boot boots its disk.
struct InstallReport {
    std::string url;    // the PXE tree's HTTP root: "http://SERVER:PORT/"
    crypto::Bytes key;  // node::install_report_key(node::node_key(site secret, NODE))
};

// The marker line of the install report's %post (the stand-in installer looks for it).
inline constexpr const char* install_report_marker = "# airstrap-install-report";

// One node's own kickstart, for network installs: the node's role profile narrowed to that
// node, with only its own key (and, for the controller, the site secret and deploy.sealed):
// nothing from which another node's key can be derived. Its %pre refuses a machine that is
// not that node (by MAC, or airstrap.node=). With `report`, it ends with the install report
// (and its %packages add curl and openssl, which the report runs). InputError when the site
// has no such node.
std::string render_node_kickstart(const site::Site& site, const site::Secrets& secrets,
                                  const std::string& node,
                                  const std::optional<InstallReport>& report = std::nullopt);

// The site profile's file name beside the role profiles (<role>.ks).
inline constexpr const char* site_profile_name = "site.ks";
// The per-node kickstarts' folder beside them: nodes/<node>.ks.
inline constexpr const char* node_kickstart_dir = "nodes";
std::filesystem::path node_kickstart_path(const std::string& node);  // "nodes/NAME.ks"

enum class KickstartSet {
    profiles,  // <role>.ks and site.ks: removable media (every node's key of its role / site)
    per_node,  // nodes/<node>.ks only: network installs (a PXE tree)
    all,
};

// Renders the kickstarts of `which`, then writes DIR/<role>.ks, DIR/site.ks and
// DIR/nodes/<node>.ks (all 0600: they hold the root hash and node keys; site.ks and the
// controller's the site secret), each through a temp file; a nodes/*.ks of a node the site no
// longer has is removed. A non-empty `install_report_url` (the PXE tree's HTTP root) gives
// each nodes/<node>.ks the install report, signed with that node's report key; the role
// profiles and site.ks (removable media) never have one. Returns the paths written.
std::vector<std::filesystem::path> write_kickstarts(const site::Site& site,
                                                    const site::Secrets& secrets,
                                                    const std::filesystem::path& dir,
                                                    KickstartSet which = KickstartSet::all,
                                                    const std::string& install_report_url = "");

}  // namespace airstrap::kickstart
