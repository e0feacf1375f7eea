// A node's configuration, decided once: host name, network, services, SELinux, root password
// hash, the site repository's .repo file, the operators' keys and the first-boot files. The
// kickstart renders it as kickstart commands and %post text (render.cpp); the qcow2 builder
// applies it to an image through libguestfs (builder/qcow2.cpp). Neither decides anything
// of its own.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "kickstart/network.hpp"
#include "site/model.hpp"
#include "site/secrets.hpp"

namespace airstrap::kickstart {

struct NodeFile {
    std::string path;  // absolute on the node
    unsigned mode = 0644;
    std::string content;
};

struct ServiceSet {
    std::vector<std::string> enable;
    std::vector<std::string> disable;
};

struct NodeSetup {
    std::string node, fqdn;
    std::string root_hash;  // SHA-512 crypt
    std::string timezone, language, keymap;
    bool rtc_utc = true;
    site::Selinux selinux = site::Selinux::enforcing;
    ServiceSet services;             // the daemon's own unit is in `enable`
    std::vector<NetDevice> network;  // node_network(): NICs, bond members, bonds, VLANs
    // In order: the .repo file, the operators' keys, modprobe options, /etc/airstrap/*.
    std::vector<NodeFile> files;
    std::vector<std::string> remove_packages;  // removed after install when present
};

// InputError naming the site's nodes when `node` is not one of them.
NodeSetup node_setup(const site::Site& site, const site::Secrets& secrets, const std::string& node);

// The same site secret gives the same salt: reproducible output, unpredictable to others.
std::string root_password_hash(const site::Secrets& secrets);
// Services of every node; the first-boot unit is enabled by %post (after its files exist).
ServiceSet node_services(const site::Site& site);
inline constexpr const char* firstboot_unit = "airstrap-firstboot.service";
std::string site_repo_file_text(const site::Site& site);
inline constexpr const char* site_repo_file = "/etc/yum.repos.d/airstrap.repo";
std::string nested_kvm_conf_text();
inline constexpr const char* nested_kvm_conf = "/etc/modprobe.d/airstrap-kvm-nested.conf";
// The first-boot files of /etc/airstrap (site.json, node, node.key; site.key and deploy.sealed
// on the controller only), as node/credentials.hpp and node_config.hpp describe them.
std::vector<NodeFile> firstboot_files(const site::Site& site, const site::Secrets& secrets,
                                      const std::string& node);

// The network configuration files of `devices` in one of the two styles EL uses: ifcfg
// (/etc/sysconfig/network-scripts/ifcfg-ID, 0644; NM_CONTROLLED as `nm_controlled`) or
// NetworkManager keyfiles (/etc/NetworkManager/system-connections/ID.nmconnection, 0600).
enum class NetworkFiles { ifcfg, keyfile };
std::vector<NodeFile> network_files(const std::vector<NetDevice>& devices, NetworkFiles style,
                                    bool nm_controlled);
// /etc/selinux/config.
std::string selinux_config_text(site::Selinux mode);

}  // namespace airstrap::kickstart
