#include "builder/profile.hpp"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <set>

#include "common/embedded.hpp"
#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/text.hpp"

namespace airstrap {
extern const EmbeddedFile builder_profiles[];
extern const std::size_t builder_profiles_count;
}  // namespace airstrap

namespace airstrap::builder {

namespace {

struct Reader {
    std::string source;

    [[noreturn]] void fail(const YAML::Node& at, const std::string& what) const {
        const YAML::Mark m = at.Mark();
        throw InputError(source + ":" + std::to_string(m.line + 1) + ":" +
                         std::to_string(m.column + 1) + ": " + what);
    }
    std::string string(const YAML::Node& n, const std::string& key) const {
        if (!n.IsScalar()) fail(n, "'" + key + "' must be a string");
        return n.Scalar();
    }
    std::vector<std::string> list(const YAML::Node& n, const std::string& key) const {
        if (!n.IsSequence()) fail(n, "'" + key + "' must be a list of strings");
        std::vector<std::string> out;
        for (const auto& item : n) out.push_back(string(item, key + "[]"));
        return out;
    }
};

}  // namespace

std::vector<std::string> builtin_profiles() {
    std::vector<std::string> names;
    for (std::size_t i = 0; i < builder_profiles_count; ++i)
        names.push_back(builder_profiles[i].name);
    return names;
}

Profile parse_profile(const std::string& text, const std::string& source) {
    Reader r{source};
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw InputError(source + ":" + std::to_string(e.mark.line + 1) + ":" +
                         std::to_string(e.mark.column + 1) + ": not YAML: " + e.msg);
    }
    if (!root.IsMap())
        throw InputError(source + ": a profile is a mapping (see builder/profiles/el7.yaml)");
    static const std::set<std::string> keys = {"name",          "description",    "packages",
                                               "bootstrap",     "filesystems",    "mkfs_options",
                                               "network",       "selinux_config", "kernel_cmdline",
                                               "grub_defaults", "initramfs",      "bootloader"};
    Profile p;
    p.source = source;
    for (const auto& kv : root) {
        std::string key = r.string(kv.first, "key");
        const YAML::Node& v = kv.second;
        if (!keys.contains(key)) {
            std::vector<std::string> known(keys.begin(), keys.end());
            auto hint = text::closest(key, known);
            r.fail(kv.first, "unknown profile key '" + key + "'" +
                                 (hint ? "; did you mean '" + *hint + "'?" : std::string()));
        }
        if (key == "name") p.name = r.string(v, key);
        if (key == "description") p.description = r.string(v, key);
        if (key == "packages") p.packages = r.list(v, key);
        if (key == "bootstrap") p.bootstrap = r.list(v, key);
        if (key == "kernel_cmdline") p.kernel_cmdline = r.string(v, key);
        if (key == "grub_defaults") p.grub_defaults = r.string(v, key);
        if (key == "initramfs") p.initramfs = r.list(v, key);
        if (key == "selinux_config") {
            std::string b = r.string(v, key);
            if (b != "true" && b != "false") r.fail(v, "'selinux_config' must be true or false");
            p.selinux_config = b == "true";
        }
        if (key == "network") {
            std::string s = r.string(v, key);
            if (s == "ifcfg") {
                p.network = Profile::Network::ifcfg;
            } else if (s == "keyfile") {
                p.network = Profile::Network::keyfile;
            } else {
                r.fail(v, "'network' must be ifcfg (network-scripts) or keyfile (NetworkManager)");
            }
        }
        if (key == "filesystems") {
            if (!v.IsMap()) r.fail(v, "'filesystems' must be a mapping {root: xfs, boot: xfs}");
            for (const auto& fs : v) {
                std::string which = r.string(fs.first, "filesystems key");
                std::string type = r.string(fs.second, "filesystems." + which);
                if (type != "xfs" && type != "ext4")
                    r.fail(fs.second, "file system '" + type + "' is not one of xfs, ext4");
                if (which == "root") {
                    p.root_fs = type;
                } else if (which == "boot") {
                    p.boot_fs = type;
                } else {
                    r.fail(fs.first, "'filesystems' has root and boot, not '" + which + "'");
                }
            }
        }
        if (key == "mkfs_options") {
            if (!v.IsMap()) r.fail(v, "'mkfs_options' must be a mapping {xfs: \"-m …\"}");
            for (const auto& o : v) {
                std::string opts = r.string(o.second, "mkfs_options");
                // Passed to a shell in the appliance: plain option words only.
                for (char c : opts) {
                    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '-' ||
                          c == '=' || c == ',' || c == '_' || c == '.'))
                        r.fail(o.second, "mkfs options may hold letters, digits, ' -=,_.' only");
                }
                p.mkfs_options[r.string(o.first, "mkfs_options key")] = opts;
            }
        }
        if (key == "bootloader") {
            if (!v.IsSequence()) r.fail(v, "'bootloader' must be a list of commands (lists)");
            for (const auto& cmd : v) p.bootloader.push_back(r.list(cmd, "bootloader[]"));
        }
    }
    for (const char* required : {"name", "packages", "initramfs", "bootloader"}) {
        if (!root[required]) {
            throw InputError(source + ": the profile has no '" + required +
                             "' (see builder/profiles/el7.yaml)");
        }
    }
    if (p.bootstrap.empty()) p.bootstrap = {"rpm"};
    return p;
}

Profile load_profile(const std::string& name) {
    if (name.find('/') != std::string::npos || name.ends_with(".yaml")) {
        std::string text;
        try {
            text = read_file(name, 1 << 20);
        } catch (const std::exception&) {
            std::throw_with_nested(InputError("cannot read the profile " + name));
        }
        return parse_profile(text, name);
    }
    for (std::size_t i = 0; i < builder_profiles_count; ++i) {
        if (name == builder_profiles[i].name)
            return parse_profile(builder_profiles[i].text, name + " (built-in profile)");
    }
    throw InputError("no distro profile '" + name + "': built in are " +
                     text::join(builtin_profiles(), ", ") + ", or give a profile file's path");
}

}  // namespace airstrap::builder
