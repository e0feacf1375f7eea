#include "builder/iso.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "builder/media_sources.hpp"
#include "builder/vendor_media.hpp"
#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/text.hpp"
#include "kickstart/render.hpp"
#include "node/layout.hpp"

namespace airstrap::builder {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t single_layer_dvd = 4'700'000'000ULL;

// The vendor put an MD5 in the primary volume descriptor for its "Test this media" entry
// (implantisomd5); any change to the image invalidates it.
bool has_implanted_md5(const fs::path& iso) {
    int fd = ::open(iso.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    char app[512];
    ssize_t n = ::pread(fd, app, sizeof app, 16 * 2048 + 883);  // the application-use field
    ::close(fd);
    return n == static_cast<ssize_t>(sizeof app) &&
           std::string_view(app, sizeof app).find("ISO MD5SUM") != std::string_view::npos;
}

std::size_t count_lines_with(const std::string& text, std::string_view needle) {
    std::size_t n = 0;
    for (std::size_t at = 0; (at = text.find(needle, at)) != std::string::npos; at += needle.size())
        ++n;
    return n;
}

// "El Torito img path" lines of xorriso's boot report: one per boot image.
std::size_t boot_images(CommandRunner& runner, const fs::path& iso) {
    std::string report = run_checked(runner, {"xorriso", "-abort_on", "FAILURE", "-indev",
                                              iso.string(), "-report_el_torito", "plain"});
    return count_lines_with(report, "El Torito img path");
}

// The edited grub.cfg into efiboot.img. A vendor image sized to its contents may have no
// room for a long site menu: then the files go into a new FAT image 1 MiB larger (same
// volume label), which xorriso's replay points El Torito and the GPT/MBR partition at.
void put_grub_cfg(CommandRunner& runner, const fs::path& img, const fs::path& cfg,
                  const fs::path& scratch, const std::function<void(const std::string&)>& log) {
    const std::string target = "::EFI/BOOT/grub.cfg";
    ProcessResult r = runner.run({"mcopy", "-o", "-i", img.string(), cfg.string(), target});
    if (r.exit_code == 0) return;
    if (r.output.find("Disk full") == std::string::npos) {
        throw Error("mcopy " + cfg.string() + " into " + img.string() + " failed: " + r.output);
    }
    std::uintmax_t old_size = fs::file_size(img);
    std::string label = run_checked(runner, {"mlabel", "-i", img.string(), "-s", "::"});
    // "Volume label is ANACONDA   " (or "Volume has no label").
    std::string name;
    if (auto at = label.find("label is "); at != std::string::npos) {
        name = label.substr(at + 9);
        while (!name.empty() && (name.back() == ' ' || name.back() == '\n')) name.pop_back();
    }
    fs::path tree = scratch / "efiboot-tree";
    fs::create_directories(tree);
    run_checked(runner, {"mcopy", "-s", "-p", "-m", "-i", img.string(), "::/", tree.string()});
    fs::path grown = scratch / "efiboot-grown.img";
    std::uintmax_t kib = (old_size + (1u << 20) + fs::file_size(cfg)) / 1024;
    kib = (kib + 1023) / 1024 * 1024;
    std::vector<std::string> mkfs = {"mkfs.fat", "-C"};
    if (!name.empty()) mkfs.insert(mkfs.end(), {"-n", name});
    mkfs.insert(mkfs.end(), {grown.string(), std::to_string(kib)});
    run_checked(runner, mkfs);
    for (const auto& e : fs::directory_iterator(tree)) {
        run_checked(runner,
                    {"mcopy", "-s", "-p", "-m", "-i", grown.string(), e.path().string(), "::/"});
    }
    run_checked(runner, {"mcopy", "-o", "-i", grown.string(), cfg.string(), target});
    fs::rename(grown, img);
    log("images/efiboot.img had no room for the site menu: rebuilt it " +
        std::to_string(kib / 1024) + " MiB large (was " + std::to_string(old_size >> 10) + " KiB)");
}

void write_private(const fs::path& path, const std::string& text) {
    write_file_atomic(path, text, 0600);
}

}  // namespace

MenuPlan site_menu_plan(const site::Site& site, const std::string& ks_prefix,
                        const std::string& extra, int timeout_seconds, const std::string& node,
                        bool per_node_kickstarts) {
    MenuPlan plan;
    plan.timeout_seconds = timeout_seconds;
    plan.group_title = "Install a particular node of " + site.name;
    auto args = [&](const std::string& ks, const std::string& more) {
        std::string a = "inst.ks=" + ks_prefix + ks;
        if (!more.empty()) a += " " + more;
        if (!extra.empty()) a += " " + extra;
        return a;
    };
    auto node_entry = [&](const site::Node& n, bool in_group) {
        std::string r = site::to_string(n.role);
        std::string where;
        for (const auto& i : n.interfaces) {
            if (i.address && where.empty()) where = ", " + i.address->str();
        }
        return MenuEntry{
            "airstrap-node-" + text::to_lower(n.name),
            (in_group ? "" : "Install " + site.name + ": ") + n.name + " (" + r + where + ")",
            args(per_node_kickstarts ? kickstart::node_kickstart_path(n.name).string() : r + ".ks",
                 "airstrap.node=" + n.name),
            in_group};
    };
    if (!node.empty()) {
        std::vector<std::string> names;
        for (const auto& n : site.nodes) {
            names.push_back(n.name);
            if (n.name == node) plan.entries.push_back(node_entry(n, false));
        }
        if (plan.entries.empty()) {
            std::string message = "'" + node + "' is not a node of site " + site.name;
            if (auto near = text::closest(node, names))
                message += " (did you mean '" + *near + "'?)";
            throw InputError(message + "; its nodes: " + text::join(names, ", "));
        }
        return plan;
    }
    if (per_node_kickstarts) {
        for (const auto& n : site.nodes) plan.entries.push_back(node_entry(n, false));
        return plan;
    }
    plan.entries.push_back({"airstrap-site",
                            "Install " + site.name + ": find this node by its MAC address",
                            args(kickstart::site_profile_name, ""), false});
    for (site::Role role : site::all_roles) {
        if (site.nodes_with_role(role).empty()) continue;
        std::string r = site::to_string(role);
        plan.entries.push_back(
            {"airstrap-" + r,
             "Install " + site.name + ": a " + r + " node, found by its MAC address",
             args(r + ".ks", ""), false});
    }
    for (const auto& n : site.nodes) plan.entries.push_back(node_entry(n, true));
    return plan;
}

IsoSummary build_iso(const site::Site& site, const site::Secrets& secrets,
                     const IsoOptions& options, CommandRunner& runner) {
    auto log = [&](const std::string& line) {
        if (options.log) options.log(line);
    };
    MediaSources sources(site, options.vendor_iso, options.repo);
    const fs::path& vendor_path = sources.vendor_path();
    if (options.volume_id.size() > 32) {
        throw InputError("--volid '" + options.volume_id +
                         "' is longer than ISO 9660's 32 characters");
    }
    std::error_code ec;
    if (fs::equivalent(vendor_path, options.output, ec)) {
        throw InputError(options.output.string() +
                         " is the vendor DVD itself: choose another output");
    }
    sources.open_repo();
    sources.read_vendor(log);
    const VendorMedia& media = sources.vendor();
    IsoSummary summary;
    summary.vendor_label = media.volume_id;
    summary.volume_id = options.volume_id.empty() ? media.volume_id : options.volume_id;
    summary.product = media.product;

    // Everything that goes into the new session, in a folder beside the output. What a killed
    // earlier build left there (its staging folder, its temp image) goes first.
    fs::path out_dir =
        options.output.parent_path().empty() ? fs::path(".") : options.output.parent_path();
    fs::create_directories(out_dir);
    remove_stale_outputs(out_dir, options.output.filename().string());
    TempDir staging(out_dir, options.output.filename().string() + ".staging");
    fs::path ks_dir = staging.path() / "ks";
    fs::create_directories(ks_dir);
    for (site::Role role : site::all_roles) {
        if (site.nodes_with_role(role).empty()) continue;
        std::string name = std::string(site::to_string(role)) + ".ks";
        write_private(ks_dir / name, kickstart::render_kickstart(site, secrets, role));
        summary.kickstarts.push_back("/ks/" + name);
    }
    write_private(ks_dir / kickstart::site_profile_name,
                  kickstart::render_kickstart(site, secrets, std::nullopt));
    summary.kickstarts.push_back(std::string("/ks/") + kickstart::site_profile_name);

    MenuPlan plan = site_menu_plan(site, "hd:LABEL=@LABEL@:/ks/", options.append,
                                   options.timeout_seconds, options.node);
    plan.old_label = media.volume_id;
    plan.new_label = summary.volume_id;
    summary.entries = plan.entries.size();
    std::vector<std::string> maps;
    auto map = [&](const fs::path& disk, const std::string& iso_path) {
        maps.insert(maps.end(), {"-map", disk.string(), iso_path});
    };
    map(ks_dir, "/ks");
    map(fs::absolute(options.repo), std::string("/") + node::media_repo_dir);
    if (media.isolinux_cfg) {
        std::string where = vendor_path.string() + ": " + isolinux_cfg_path;
        write_file_atomic(staging.path() / "isolinux.cfg",
                          edit_isolinux_cfg(*media.isolinux_cfg, plan, where), 0644);
        map(staging.path() / "isolinux.cfg", std::string("/") + isolinux_cfg_path);
        summary.menus.push_back(isolinux_cfg_path);
    } else {
        log("warning: " + vendor_path.string() + " has no " + isolinux_cfg_path +
            ": the ISO will not boot on BIOS");
    }
    if (media.grub_cfg) {
        std::string where = vendor_path.string() + ": " + grub_cfg_path;
        write_file_atomic(staging.path() / "grub.cfg", edit_grub_cfg(*media.grub_cfg, plan, where),
                          0644);
        map(staging.path() / "grub.cfg", std::string("/") + grub_cfg_path);
        summary.menus.push_back(grub_cfg_path);
    }
    if (media.has_efiboot) {
        // The FAT image UEFI boots from (El Torito, and the GPT's EFI partition on USB): its
        // own EFI/BOOT/grub.cfg, edited with mtools; the image keeps its size and layout
        // unless the menu does not fit.
        extract_files(media, {efiboot_path}, staging.path());
        fs::path img = staging.path() / efiboot_path;
        std::string inner =
            run_checked(runner, {"mtype", "-i", img.string(), "::EFI/BOOT/grub.cfg"});
        std::string where = vendor_path.string() + ": " + efiboot_path + ": EFI/BOOT/grub.cfg";
        write_file_atomic(staging.path() / "efiboot-grub.cfg", edit_grub_cfg(inner, plan, where),
                          0644);
        put_grub_cfg(runner, img, staging.path() / "efiboot-grub.cfg", staging.path(), log);
        map(img, std::string("/") + efiboot_path);
        summary.menus.push_back(std::string(efiboot_path) + ":EFI/BOOT/grub.cfg");
    }

    // The vendor image, copied inside the kernel; then one appended session. 0600: the
    // kickstarts on it hold node keys and the site secret.
    AtomicFile out(options.output, 0600);
    log("copying " + vendor_path.string());
    summary.vendor_bytes = copy_file_into(out.fd(), vendor_path, options.progress);
    std::size_t vendor_boot_images = boot_images(runner, vendor_path);
    std::vector<std::string> argv = {
        "xorriso",     "-abort_on",     "FAILURE", "-return_with", "SORRY",
        "32",          "-report_about", "SORRY",   "-dev",         out.temp_path().string(),
        "-boot_image", "any",           "replay"};
    if (summary.volume_id != media.volume_id)
        argv.insert(argv.end(), {"-volid", summary.volume_id});
    argv.insert(argv.end(), maps.begin(), maps.end());
    argv.push_back("-commit");
    log("adding the site (" + std::to_string(summary.kickstarts.size()) + " kickstarts, " +
        options.repo.string() + ", " + std::to_string(summary.menus.size()) + " boot menus)");
    run_checked(runner, argv);

    // The boot equipment came through: as many El Torito images as the vendor had.
    std::size_t ours = boot_images(runner, out.temp_path());
    if (ours != vendor_boot_images) {
        throw Error(options.output.string() + ": has " + std::to_string(ours) +
                    " El Torito boot images, the vendor DVD has " +
                    std::to_string(vendor_boot_images) + "; nothing was written");
    }
    struct stat st {};
    if (::fstat(out.fd(), &st) == 0) summary.bytes = static_cast<std::uint64_t>(st.st_size);
    out.commit();
    if (has_implanted_md5(vendor_path)) {
        log("note: the vendor's \"Test this media\" entries check an MD5 that no longer matches; "
            "airstrap's entries skip that check");
    }
    if (summary.bytes > single_layer_dvd) {
        log("note: " + options.output.string() + " is larger than a single-layer DVD (4.7 GB): " +
            "write it to a USB stick or a dual-layer DVD");
    }
    return summary;
}

}  // namespace airstrap::builder
