#include "builder/iso.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstring>
#include <future>

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

// xorriso's boot report (-report_el_torito plain) has one such line per boot image.
constexpr std::string_view el_torito_image_line = "El Torito img path";

// A file as xorriso's drive: "stdio:" always, because xorriso takes a bare path under /dev
// (an output in /dev/shm, say) for an optical drive and refuses it.
std::string xorriso_drive(const fs::path& file) {
    return "stdio:" + file.string();
}

std::size_t boot_images(CommandRunner& runner, const fs::path& iso) {
    std::string report = run_checked(runner, {"xorriso", "-abort_on", "FAILURE", "-indev",
                                              xorriso_drive(iso), "-report_el_torito", "plain"});
    return count_lines_with(report, el_torito_image_line);
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

// A file of the session's staging folder: xorriso reads it within the run, then it goes with
// the folder; never synced (a sync would only wait for the vendor copy's write-back).
void write_staged(const fs::path& path, const std::string& text, mode_t mode) {
    write_file_atomic(path, text, mode, Durability::scratch);
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

namespace {

// What the appended session needs, prepared while the vendor image is copied: the site's
// files in the staging folder, xorriso's -map pairs, and the summary's fields.
struct Session {
    std::vector<std::string> maps;
    std::size_t vendor_boot_images = 0;
    std::vector<std::string> log;  // said after the copy, so that its progress line stays whole
};

Session prepare_session(const site::Site& site, const site::Secrets& secrets,
                        const IsoOptions& options, MediaSources& sources, const fs::path& staging,
                        IsoSummary& summary, CommandRunner& runner) {
    Session session;
    auto log = [&](const std::string& line) { session.log.push_back(line); };
    const fs::path& vendor_path = sources.vendor_path();
    sources.open_repo();
    sources.read_vendor(log);
    const VendorMedia& media = sources.vendor();
    summary.vendor_label = media.volume_id;
    summary.volume_id = options.volume_id.empty() ? media.volume_id : options.volume_id;
    summary.product = media.product;

    fs::path ks_dir = staging / "ks";
    fs::create_directories(ks_dir);
    for (site::Role role : site::all_roles) {
        if (site.nodes_with_role(role).empty()) continue;
        std::string name = std::string(site::to_string(role)) + ".ks";
        write_staged(ks_dir / name, kickstart::render_kickstart(site, secrets, role), 0600);
        summary.kickstarts.push_back("/ks/" + name);
    }
    write_staged(ks_dir / kickstart::site_profile_name,
                 kickstart::render_kickstart(site, secrets, std::nullopt), 0600);
    summary.kickstarts.push_back(std::string("/ks/") + kickstart::site_profile_name);

    MenuPlan plan = site_menu_plan(site, "hd:LABEL=@LABEL@:/ks/", options.append,
                                   options.timeout_seconds, options.node);
    plan.old_label = media.volume_id;
    plan.new_label = summary.volume_id;
    summary.entries = plan.entries.size();
    auto map = [&](const fs::path& disk, const std::string& iso_path) {
        session.maps.insert(session.maps.end(), {"-map", disk.string(), iso_path});
    };
    map(ks_dir, "/ks");
    map(fs::absolute(options.repo), std::string("/") + node::media_repo_dir);
    if (media.isolinux_cfg) {
        std::string where = vendor_path.string() + ": " + isolinux_cfg_path;
        write_staged(staging / "isolinux.cfg", edit_isolinux_cfg(*media.isolinux_cfg, plan, where),
                     0644);
        map(staging / "isolinux.cfg", std::string("/") + isolinux_cfg_path);
        summary.menus.push_back(isolinux_cfg_path);
    } else {
        log("warning: " + vendor_path.string() + " has no " + isolinux_cfg_path +
            ": the ISO will not boot on BIOS");
    }
    if (media.grub_cfg) {
        std::string where = vendor_path.string() + ": " + grub_cfg_path;
        write_staged(staging / "grub.cfg", edit_grub_cfg(*media.grub_cfg, plan, where), 0644);
        map(staging / "grub.cfg", std::string("/") + grub_cfg_path);
        summary.menus.push_back(grub_cfg_path);
    }
    if (media.has_efiboot) {
        // The FAT image UEFI boots from (El Torito, and the GPT's EFI partition on USB): its
        // own EFI/BOOT/grub.cfg, edited with mtools; the image keeps its size and layout
        // unless the menu does not fit.
        extract_files(media, {efiboot_path}, staging, Durability::scratch);
        fs::path img = staging / efiboot_path;
        std::string inner =
            run_checked(runner, {"mtype", "-i", img.string(), "::EFI/BOOT/grub.cfg"});
        std::string where = vendor_path.string() + ": " + efiboot_path + ": EFI/BOOT/grub.cfg";
        write_staged(staging / "efiboot-grub.cfg", edit_grub_cfg(inner, plan, where), 0644);
        put_grub_cfg(runner, img, staging / "efiboot-grub.cfg", staging, log);
        map(img, std::string("/") + efiboot_path);
        summary.menus.push_back(std::string(efiboot_path) + ":EFI/BOOT/grub.cfg");
    }
    session.vendor_boot_images = boot_images(runner, vendor_path);
    return session;
}

// Thrown from the copy's progress callback when the session's preparation failed.
struct CopyStopped {};

}  // namespace

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

    // Everything that goes into the new session, in a folder beside the output. What a killed
    // earlier build left there (its staging folder, its temp image) goes first.
    fs::path out_dir =
        options.output.parent_path().empty() ? fs::path(".") : options.output.parent_path();
    fs::create_directories(out_dir);
    remove_stale_outputs(out_dir, options.output.filename().string());
    TempDir staging(out_dir, options.output.filename().string() + ".staging");

    // The vendor image is copied inside the kernel (0600: the kickstarts on it hold node keys
    // and the site secret) while a second thread checks the repository against its lock,
    // reads the DVD and prepares the session; a failure there stops the copy at its next
    // chunk, and nothing is left behind.
    IsoSummary summary;
    AtomicFile out(options.output, 0600);
    std::atomic<bool> stop{false};
    std::future<Session> prepared = std::async(std::launch::async, [&] {
        try {
            return prepare_session(site, secrets, options, sources, staging.path(), summary,
                                   runner);
        } catch (...) {
            stop = true;
            throw;
        }
    });
    log("copying " + vendor_path.string());
    std::uint64_t copied = 0;
    try {
        copied =
            copy_file_into(out.fd(), vendor_path, [&](std::uint64_t done, std::uint64_t total) {
                if (stop) throw CopyStopped{};
                if (options.progress) options.progress(done, total);
            });
    } catch (const CopyStopped&) {
        prepared.get();  // its error
        throw Error("the vendor DVD's copy stopped");
    } catch (...) {
        prepared.wait();  // the copy's own error, once the other thread is done with `summary`
        throw;
    }
    Session session = prepared.get();
    for (const auto& line : session.log) log(line);
    summary.vendor_bytes = copied;
    const VendorMedia& media = sources.vendor();

    std::vector<std::string> argv = {
        "xorriso",     "-abort_on",     "FAILURE", "-return_with", "SORRY",
        "32",          "-report_about", "SORRY",   "-dev",         xorriso_drive(out.temp_path()),
        "-boot_image", "any",           "replay"};
    if (summary.volume_id != media.volume_id)
        argv.insert(argv.end(), {"-volid", summary.volume_id});
    argv.insert(argv.end(), session.maps.begin(), session.maps.end());
    // After -commit, xorriso loads the image it wrote: its boot report is the new image's.
    argv.insert(argv.end(), {"-commit", "-report_el_torito", "plain"});
    log("adding the site (" + std::to_string(summary.kickstarts.size()) + " kickstarts, " +
        options.repo.string() + ", " + std::to_string(summary.menus.size()) + " boot menus)");
    std::string report = run_checked(runner, argv);

    // The boot equipment came through: as many El Torito images as the vendor had.
    std::size_t ours = count_lines_with(report, el_torito_image_line);
    if (ours != session.vendor_boot_images) {
        throw Error(options.output.string() + ": has " + std::to_string(ours) +
                    " El Torito boot images, the vendor DVD has " +
                    std::to_string(session.vendor_boot_images) + "; nothing was written");
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
