// The texts and lists a qcow2 image's node configuration is made of, from the site, the
// secrets and the distro profile alone (no I/O): the image's package request, root's
// /etc/shadow line, /etc/fstab, the profile's commands filled in, the services script.
#include <algorithm>

#include "builder/qcow2.hpp"
#include "common/error.hpp"
#include "common/text.hpp"
#include "site/packages.hpp"

namespace airstrap::builder {

namespace fs = std::filesystem;

ImagePackages image_packages(const site::Site& site, site::Role role, const Profile& profile) {
    site::PackageSet set = site::packages_for(site, role);
    const char* environment = site::minimal_environment(site.distro);
    ImagePackages out;
    out.install = profile.packages;
    for (const auto& p : set.install) {
        if (p == environment || p == "@core") continue;  // the profile's base set instead
        if (std::find(out.install.begin(), out.install.end(), p) == out.install.end())
            out.install.push_back(p);
    }
    out.exclude = set.exclude;
    return out;
}

std::string shadow_with_root_hash(const std::string& shadow, const std::string& hash) {
    std::string out;
    bool found = false;
    for (const auto& line : text::split(shadow, '\n')) {
        if (line.empty()) continue;
        if (line.starts_with("root:")) {
            std::vector<std::string> f = text::split(line, ':');
            if (f.size() < 2) throw InputError("the image's /etc/shadow has a broken root line");
            f[1] = hash;
            out += text::join(f, ":") + "\n";
            found = true;
        } else {
            out += line + "\n";
        }
    }
    if (!found) throw InputError("the image's /etc/shadow has no root line");
    return out;
}

std::string fstab_text(const std::string& root_uuid, const std::string& root_fs,
                       const std::string& boot_uuid, const std::string& boot_fs,
                       const std::string& esp_uuid) {
    return "# Written by airstrap (build qcow2)\n"
           "UUID=" +
           root_uuid + " / " + root_fs +
           " defaults 0 0\n"
           "UUID=" +
           boot_uuid + " /boot " + boot_fs +
           " defaults 0 0\n"
           "UUID=" +
           esp_uuid + " /boot/efi vfat umask=0077,shortname=winnt 0 2\n";
}

std::vector<std::string> fill_command(const std::vector<std::string>& argv,
                                      const std::map<std::string, std::string>& values) {
    std::vector<std::string> out;
    for (const auto& arg : argv) {
        std::string s;
        for (std::size_t i = 0; i < arg.size(); ++i) {
            if (arg[i] != '{') {
                s += arg[i];
                continue;
            }
            std::size_t close = arg.find('}', i);
            std::string key = close == std::string::npos ? "" : arg.substr(i + 1, close - i - 1);
            auto it = values.find(key);
            if (it == values.end())
                throw InputError("profile command '" + text::join(argv, " ") + "' has '{" + key +
                                 "}'; known are {kver}, {disk}, {root_uuid}, {boot_uuid}");
            s += it->second;
            i = close;
        }
        out.push_back(s);
    }
    return out;
}

std::string services_script(const kickstart::NodeSetup& s) {
    // What anaconda's `services` does with a unit the package set lacks: note it, go on.
    std::string out =
        "set -e\n"
        "unit() { for d in /etc/systemd/system /usr/lib/systemd/system /lib/systemd/system; do\n"
        "    [ -e \"$d/$1\" ] && return 0; done; return 1; }\n";
    auto each = [&](const std::string& verb, const std::vector<std::string>& units) {
        for (std::string u : units) {
            if (!u.ends_with(".service")) u += ".service";
            out += "if unit " + u + "; then systemctl " + verb + " " + u +
                   " >/dev/null 2>&1 || { echo 'systemctl " + verb + " " + u +
                   " failed' >&2; exit 1; }; else echo '" + verb + " " + u +
                   ": not installed, skipped'; fi\n";
        }
    };
    each("enable", s.services.enable);
    each("disable", s.services.disable);
    for (const auto& p : s.remove_packages) {
        out += "if rpm -q " + p + " >/dev/null 2>&1; then rpm -e --nodeps " + p +
               "; echo 'removed " + p + "'; fi\n";
    }
    return out;
}

}  // namespace airstrap::builder
