// /etc/airstrap/deploy.sealed (layout.hpp) on the controller (0600): what the deployment needs from
// site.yaml and secrets.yaml beyond site.json — the answer-file settings (with the Packstack
// passwords) and the day-1 users' passwords. Written by the kickstart and `airstrap
// node-config`, read by airstrap-firstboot; parsed strictly.
//
// Kickstarts carry password hashes, never passwords; Packstack needs the passwords
// themselves, so they travel sealed (AES-256-GCM) under a key derived from the site secret.
// The kickstart holds that secret too, which is why it is 0600 and the media must be kept
// safe: sealing keeps the passwords out of plain sight (the kickstart, anaconda-ks.cfg, logs),
// it does not protect them from someone who has the whole kickstart.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/crypto.hpp"

namespace airstrap::node {

// One value airstrap writes into Packstack's answer file, and where it comes from (shown in
// comments and errors).
struct AnswerSetting {
    std::string key;
    std::string value;
    std::string from;     // "site.yaml openstack.cinder_volumes_size", "secrets.yaml …"
    bool secret = false;  // a password: masked when shown for review
};

struct DeployConfig {
    std::vector<AnswerSetting> answers;                 // applied in order
    std::map<std::string, std::string> user_passwords;  // cloud.users name → password
};

std::string deploy_config_text(const DeployConfig& config);
// Throws InputError("deploy.sealed: …") for anything but the exact shape above.
DeployConfig parse_deploy_config(const std::string& text);

// The file's content: the JSON above sealed under the site secret, as hex, one line. The same
// config and secret give the same bytes (the nonce is a MAC of the plaintext).
std::string seal_deploy_config(const DeployConfig& config, const crypto::Bytes& site_secret);
// InputError when it does not open with this secret or is not a deploy config.
DeployConfig open_deploy_config(const std::string& text, const crypto::Bytes& site_secret);

}  // namespace airstrap::node
