// A node's first-boot configuration: /etc/airstrap/{site.json,site.key,node}, the files the
// kickstart's %post writes on an installed node. Written directly under a root for images
// (qcow2) and for the first-boot tests, with the same content and modes.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "site/model.hpp"
#include "site/secrets.hpp"

namespace airstrap::kickstart {

// Writes ROOT/etc/airstrap/ (0700) with site.json (0644), site.key (0600), node (0644) and,
// on the controller, deploy.sealed (0600),
// each atomically. InputError if `node` is not a node of the site. Returns the folder.
std::filesystem::path write_node_config(const site::Site& site, const site::Secrets& secrets,
                                        const std::string& node, const std::filesystem::path& root);

}  // namespace airstrap::kickstart
