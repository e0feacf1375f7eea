#include "builder/vendor_media.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/text.hpp"
#include "repo-mirror/tree.hpp"

namespace airstrap::builder {

namespace {

constexpr std::size_t max_config_bytes = 1 << 20;

// "key = value" of one [section] of an INI file (.treeinfo); empty when absent.
std::string ini_value(const std::string& ini, const std::string& section, const std::string& key) {
    std::string current;
    for (const auto& raw : text::split(ini, '\n')) {
        std::string line = raw;
        std::size_t b = line.find_first_not_of(" \t");
        if (b == std::string::npos || line[b] == '#' || line[b] == ';') continue;
        line = line.substr(b);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (line.front() == '[' && line.back() == ']') {
            current = line.substr(1, line.size() - 2);
            continue;
        }
        if (current != section) continue;
        std::size_t eq = line.find('=');
        if (eq == std::string::npos) continue;
        std::string k = line.substr(0, eq);
        while (!k.empty() && k.back() == ' ') k.pop_back();
        if (k != key) continue;
        std::string v = line.substr(eq + 1);
        std::size_t vb = v.find_first_not_of(' ');
        return vb == std::string::npos ? std::string() : v.substr(vb);
    }
    return {};
}

}  // namespace

std::string read_volume_id(const std::filesystem::path& iso) {
    int fd = ::open(iso.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw SystemError("cannot open " + iso.string(), errno);
    char pvd[2048];
    ssize_t n = ::pread(fd, pvd, sizeof pvd, 16 * 2048);
    ::close(fd);
    // Type 1 (primary), "CD001", version 1; the volume identifier is bytes 40..71.
    if (n != static_cast<ssize_t>(sizeof pvd) || pvd[0] != 1 ||
        std::memcmp(pvd + 1, "CD001", 5) != 0) {
        throw InputError(iso.string() + ": not an ISO 9660 image (no primary volume descriptor)");
    }
    std::string id(pvd + 40, 32);
    while (!id.empty() && (id.back() == ' ' || id.back() == '\0')) id.pop_back();
    return id;
}

VendorMedia inspect_vendor_iso(const std::filesystem::path& iso) {
    VendorMedia m;
    m.path = iso;
    m.volume_id = read_volume_id(iso);
    auto tree = mirror::open_archive(iso);
    m.files = tree->files();
    auto has = [&](const std::string& p) { return m.files.contains(p); };
    bool el7 = has("repodata/repomd.xml") && has("LiveOS/squashfs.img");
    bool el8 = has("BaseOS/repodata/repomd.xml") && has("images/install.img");
    if (el8) {
        m.layout = MediaLayout::el8;
    } else if (el7) {
        m.layout = MediaLayout::el7;
    } else {
        std::set<std::string> top;
        for (const auto& [p, size] : m.files) top.insert(p.substr(0, p.find('/')));
        throw InputError(iso.string() +
                         ": not a vendor install DVD that airstrap knows: looked for "
                         "repodata/repomd.xml + LiveOS/squashfs.img (CentOS/RHEL 7) or "
                         "BaseOS/repodata/repomd.xml + images/install.img (RHEL-family 8/9); "
                         "its top level holds: " +
                         text::join(std::vector<std::string>(top.begin(), top.end()), ", "));
    }
    std::set<std::string> wanted;
    for (const char* p : {".treeinfo", isolinux_cfg_path, grub_cfg_path}) {
        if (has(p)) wanted.insert(p);
    }
    std::string treeinfo;
    tree->stream(wanted, [&](const std::string& path, mirror::ByteStream& in) {
        std::string data;
        char buf[1 << 14];
        while (std::size_t n = in.read(buf, sizeof buf)) {
            if (data.size() + n > max_config_bytes)
                throw InputError(iso.string() + ": " + path + " is implausibly large");
            data.append(buf, n);
        }
        if (path == ".treeinfo")
            treeinfo = std::move(data);
        else if (path == isolinux_cfg_path)
            m.isolinux_cfg = std::move(data);
        else
            m.grub_cfg = std::move(data);
    });
    m.has_efiboot = has(efiboot_path);
    // productmd (EL8/9): [release] name + version; the old format (EL7): [general] family +
    // version.
    std::string name = ini_value(treeinfo, "release", "name");
    std::string version = ini_value(treeinfo, "release", "version");
    if (name.empty()) name = ini_value(treeinfo, "general", "family");
    if (version.empty()) version = ini_value(treeinfo, "general", "version");
    m.product = text::join(std::vector<std::string>{name, version}, " ");
    if (name.empty()) m.product.clear();
    if (!m.isolinux_cfg && !m.grub_cfg) {
        throw InputError(iso.string() + ": has neither " + isolinux_cfg_path + " (BIOS) nor " +
                         grub_cfg_path + " (UEFI): not a bootable install DVD");
    }
    return m;
}

void check_media_matches(const VendorMedia& media, site::Distro distro) {
    bool site_el7 = distro == site::Distro::el7;
    bool media_el7 = media.layout == MediaLayout::el7;
    if (site_el7 != media_el7) {
        throw InputError(media.path.string() + " is " +
                         (media.product.empty() ? std::string(media_el7 ? "an EL7" : "an EL8/9")
                                                : media.product) +
                         " DVD, but the site's distro is " + site::to_string(distro) +
                         ": use the matching DVD or change 'distro' in the site file");
    }
}

void extract_files(const VendorMedia& media, const std::set<std::string>& paths,
                   const std::filesystem::path& dir, Durability durability) {
    auto tree = mirror::open_archive(media.path);
    std::set<std::string> left = paths;
    tree->stream(paths, [&](const std::string& path, mirror::ByteStream& in) {
        std::filesystem::path out = dir / path;
        std::filesystem::create_directories(out.parent_path());
        AtomicFile f(out, 0644, durability);
        char buf[1 << 16];
        while (std::size_t n = in.read(buf, sizeof buf)) f.write({buf, n});
        f.commit();
        left.erase(path);
    });
    if (!left.empty()) {
        throw InputError(media.path.string() + ": missing " + *left.begin());
    }
}

}  // namespace airstrap::builder
