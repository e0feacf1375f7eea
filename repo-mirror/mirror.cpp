#include "repo-mirror/mirror.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "common/checksum.hpp"
#include "common/error.hpp"
#include "common/file_io.hpp"
#include "repo-mirror/closure.hpp"
#include "repo-mirror/fetch.hpp"
#include "repo-mirror/images.hpp"
#include "repo-mirror/lock.hpp"
#include "repo-mirror/merge.hpp"
#include "repo-mirror/modules.hpp"
#include "repo-mirror/repodata_writer.hpp"
#include "repo-mirror/signatures.hpp"
#include "repo-mirror/sources.hpp"
#include "repo-mirror/tree.hpp"
#include "repo-mirror/work_pool.hpp"
#include "site/packages.hpp"

namespace airstrap::mirror {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<std::string> installer_packages(site::Distro distro) {
    // What Anaconda installs without %packages naming it: the kernel, the bootloaders for
    // BIOS and UEFI, LVM and XFS for autopart, mdadm for RAID1, dosfstools for the EFI system
    // partition, and the tools its own commands call. (`airstrap build qcow2` takes its profile's
    // packages from the same repository.)
    std::vector<std::string> common = {
        "grub2-efi-x64", "shim-x64", "efibootmgr", "lvm2",
        "mdadm",         "xfsprogs", "dosfstools", "dracut-config-generic",
        "kbd",           "firewalld"};
    if (distro == site::Distro::el7) {
        common.insert(common.end(), {"grub2", "grub2-tools", "authconfig"});
    } else {
        common.insert(common.end(),
                      {"grub2-pc", "authselect", "glibc-langpack-en", "langpacks-en"});
    }
    return common;
}

namespace {

std::string output_path(const PackageRef& p) {
    std::string file = p.file_name();
    char letter = static_cast<char>(std::tolower(static_cast<unsigned char>(file[0])));
    return "Packages/" + std::string(1, letter) + "/" + file;
}

// One run of the mirror, phase by phase; each phase leaves what the next needs in members.
class MirrorBuild {
  public:
    MirrorBuild(const site::Site& s, const MirrorOptions& o)
        : site(s), options(o), ctx{s, o, nullptr} {
        if (options.dry_run) {
            // Nothing beside the output: a source tree that needs indexing goes to /tmp.
            parent = fs::temp_directory_path();
            return;
        }
        out = fs::absolute(options.output).lexically_normal();
        parent = out.parent_path();
        fs::create_directories(parent);
        old_lock = read_lock_or_null(out);
        if (old_lock.is_object() && old_lock.contains("packages")) {
            for (const auto& p : old_lock["packages"]) old_packages[p.value("path", "")] = p;
        }
    }

    void hash_images();
    void open_sources();
    void build_pool();
    void select_packages();
    void merge_metadata();
    // True when the previous output already is what this run would build: same inputs
    // (fingerprint in its lock) and every package still in place. Then nothing is rebuilt.
    bool up_to_date();
    // The summary of a dry run: what select_packages() chose.
    MirrorSummary planned();
    void materialize();
    void place_images();
    void check_signatures();
    void write_repodata();
    void write_lock();
    void publish();

    MirrorSummary summary;

  private:
    const site::Site& site;
    const MirrorOptions& options;
    MirrorContext ctx;
    fs::path out, parent, downloads;
    json old_lock;
    std::map<std::string, json> old_packages;  // by output path, from the previous lock
    std::vector<Source> sources;
    std::vector<SourceRepo> repos;
    PackagePool pool;
    ModuleIndex modules;
    std::map<std::string, PackageRef> selected;  // by output path
    json role_requests = json::object();
    std::unique_ptr<TempDir> staging;                 // the new tree, beside the output
    std::unique_ptr<RepodataWriter> repodata;         // its repodata, as packages arrive
    std::map<std::string, std::string> sha256_of;     // output path → sha256
    std::map<std::string, std::string> signature_of;  // output path → verified, unsigned, …
    std::mutex checks_mu;
    std::map<std::string, SignatureCheck> checks;  // output path → its check, as it arrived
    std::vector<std::unique_ptr<SignatureChecker>> idle_checkers;  // one per arrival thread
    std::string comps, updateinfo, modules_yaml;  // merged, for the output's repodata
    std::string fingerprint;                      // of everything the output depends on
    std::vector<ImageFile> images;                // cloud.images, hashed
};

void MirrorBuild::hash_images() {
    // First: a missing image stops the run before the big sources are read.
    images = mirror::hash_images(site, old_lock);
    if (!images.empty()) ctx.log("cloud images: " + std::to_string(images.size()));
}

void MirrorBuild::open_sources() {
    mirror::open_sources(ctx, parent, sources, repos);
}

void MirrorBuild::build_pool() {
    // Every source repository in one libsolv pool, with modular filtering.
    for (auto& repo : repos) {
        pool.add_repo(repo.meta);
        if (!repo.modules.empty()) modules.add(repo.modules, repo.name);
    }
    if (!modules.empty()) {
        std::vector<std::string> nevras;
        for (const auto& p : pool.all_packages()) nevras.push_back(p.nevra());
        pool.hide(modular_hidden(modules, nevras));
    }
}

void MirrorBuild::select_packages() {
    // What to mirror: every role's closure, or everything.
    auto take = [&](const std::vector<PackageRef>& packages) {
        for (const auto& p : packages) {
            std::string path = output_path(p);
            auto [it, fresh] = selected.emplace(path, p);
            if (!fresh && it->second.checksum != p.checksum) {
                throw InputError("two different packages are both named " + p.file_name() +
                                 " (in " + repos[it->second.repo].name + " and " +
                                 repos[p.repo].name + ")");
            }
        }
    };
    if (options.all) {
        take(pool.all_packages(/*include_hidden=*/true));
    } else {
        for (site::Role role : site::all_roles) {
            if (options.role && *options.role != role) continue;
            if (site.nodes_with_role(role).empty()) continue;
            auto set = site::packages_for(site, role);
            ClosureRequest request;
            request.install = set.install;
            request.install.push_back("kernel");
            request.optional = installer_packages(site.distro);
            request.exclude = set.exclude;
            request.weak_deps = options.weak_deps.value_or(site.packages.weak_deps);
            std::vector<PackageRef> closure;
            try {
                closure = pool.closure(request);
            } catch (const InputError&) {
                std::throw_with_nested(InputError(std::string("role ") + site::to_string(role)));
            }
            summary.per_role[site::to_string(role)] = closure.size();
            std::vector<std::string> present, files;
            for (const auto& o : request.optional) {
                if (pool.has(o)) present.push_back(o);
            }
            for (const auto& p : closure) files.push_back(output_path(p));
            std::sort(files.begin(), files.end());
            role_requests[site::to_string(role)] = {{"install", request.install},
                                                    {"optional_present", present},
                                                    {"exclude", request.exclude},
                                                    {"weak_deps", request.weak_deps},
                                                    {"packages", files}};
            ctx.log(std::string(site::to_string(role)) + ": " + std::to_string(closure.size()) +
                    " packages");
            take(closure);
        }
    }
}

void MirrorBuild::merge_metadata() {
    std::vector<std::pair<std::string, std::string>> comps_docs, updateinfo_docs;
    for (const auto& repo : repos) {
        comps_docs.emplace_back(repo.name + ": comps", repo.meta.comps);
        updateinfo_docs.emplace_back(repo.name + ": updateinfo", repo.updateinfo);
    }
    comps = merge_comps(comps_docs);
    updateinfo = merge_updateinfo(updateinfo_docs);
    for (const auto& d : modules.documents) modules_yaml += d;

    Hasher h(ChecksumType::sha256);
    auto add = [&](std::string_view part) {
        h.update(std::to_string(part.size()) + ":");
        h.update(part);
    };
    add("airstrap mirror output v1");  // bump when the output's layout or tools change
    for (const auto& [path, p] : selected) {
        add(path);
        add(std::string(checksum_type_name(p.checksum_type)) + ":" + p.checksum);
    }
    add(comps);
    add(updateinfo);
    add(modules_yaml);
    add(role_requests.dump());
    add(site.media.require_signatures ? "require signatures" : "signatures optional");
    for (const auto& key : site.media.gpg_keys) add(file_checksum_hex(ChecksumType::sha256, key));
    // Only when there are images, so that outputs of image-less sites stay up to date.
    for (const auto& image : images) {
        add(image.path);
        add(image.sha256);
    }
    fingerprint = h.hex_digest();
}

bool MirrorBuild::up_to_date() {
    if (!old_lock.is_object() || old_lock.value("inputs", "") != fingerprint) return false;
    std::error_code ec;
    if (!fs::is_regular_file(out / "repodata" / "repomd.xml", ec)) return false;
    for (const auto& [path, p] : selected) {
        auto old = old_packages.find(path);
        if (old == old_packages.end()) return false;
        auto size = fs::file_size(out / path, ec);
        if (ec || size != old->second.value("size", std::uint64_t{0})) return false;
    }
    for (const auto& image : images) {
        auto size = fs::file_size(out / image.path, ec);
        if (ec || size != image.size) return false;
    }
    summary.images = summary.images_reused = images.size();
    summary.packages = selected.size();
    summary.reused = selected.size();
    for (const auto& [path, p] : selected) summary.bytes += p.size;
    for (const auto& src : sources) summary.sources.push_back(src.location);
    ctx.log(out.string() + " is up to date (same packages, images, metadata and signature policy)");
    return true;
}

MirrorSummary MirrorBuild::planned() {
    summary.packages = selected.size();
    for (const auto& [path, p] : selected) summary.bytes += p.size;
    for (const auto& src : sources) summary.sources.push_back(src.location);
    for (const auto& repo : repos) {
        if (!repo.url.empty()) summary.sources.push_back(repo.source);
    }
    return summary;
}

void MirrorBuild::materialize() {
    // Packages into a new tree beside the output: verified while copied, or hard-linked
    // from the previous output when its lock vouches for them.
    staging = std::make_unique<TempDir>(parent, out.filename().string() + ".partial");
    std::map<SourceTree*, std::map<std::string, std::string>>
        wanted;  // tree → source path → out path
    // Packages of HTTP repositories go through a download folder beside the output that
    // outlives a failed run, so the next run resumes instead of starting over.
    downloads = parent / ("." + out.filename().string() + ".download");
    std::vector<FetchRequest> remote;
    std::vector<std::string> remote_paths;
    // Each package's repodata entries are made as it lands (its header read, on `arrivals`'
    // threads, beside the transfers), in a fixed order: reused packages, then each tree's in
    // its order, then the downloads in request order. The repodata is complete when the last
    // package is.
    repodata = std::make_unique<RepodataWriter>(staging->path(), selected.size(),
                                                site.distro == site::Distro::el7);
    std::mutex arrival_mu;
    std::string arrival_error;  // the first, if any
    auto record = [&](std::function<void()> job) {
        return [&, job = std::move(job)] {
            try {
                job();
            } catch (const std::exception& e) {
                std::lock_guard lock(arrival_mu);
                if (arrival_error.empty()) arrival_error = describe(e);
            }
        };
    };
    // Each package as it lands, on a worker: its signature checked against the site's keys
    // (librpm: one checker per thread at a time), then its repodata entries written from the
    // header that check read and the sha256 already verified (when it is known), so that
    // nothing is read twice. The first checker is made here: a bad key file is the site's
    // error, said before anything is fetched.
    const std::vector<fs::path> keys(site.media.gpg_keys.begin(), site.media.gpg_keys.end());
    idle_checkers.push_back(std::make_unique<SignatureChecker>(keys));
    auto on_arrival = [&](const std::string& rel, const std::string& sha256) {
        std::unique_ptr<SignatureChecker> checker;
        {
            std::lock_guard lock(checks_mu);
            if (!idle_checkers.empty()) {
                checker = std::move(idle_checkers.back());
                idle_checkers.pop_back();
            }
        }
        if (!checker) checker = std::make_unique<SignatureChecker>(keys);
        SignatureCheck c = checker->check(staging->path() / rel);
        {
            std::lock_guard lock(checks_mu);
            idle_checkers.push_back(std::move(checker));
        }
        repodata->add(rel, {sha256, c.header.get()});
        c.header.reset();
        std::lock_guard lock(checks_mu);
        checks.insert_or_assign(rel, std::move(c));
    };
    // Header reading is CPU work: no more threads than CPUs. Drained (reset) before what its
    // jobs use goes.
    auto arrivals = std::make_unique<WorkPool>(static_cast<std::size_t>(std::clamp(
        options.jobs, 1, static_cast<int>(std::max(1U, std::thread::hardware_concurrency())))));
    for (const auto& [path, p] : selected) {
        fs::path dest = staging->path() / path;
        fs::create_directories(dest.parent_path());
        auto old = old_packages.find(path);
        if (old != old_packages.end() &&
            old->second.value("repo_checksum", "") ==
                std::string(checksum_type_name(p.checksum_type)) + ":" + p.checksum) {
            if (::link((out / path).c_str(), dest.c_str()) == 0) {
                ++summary.reused;
                repodata->reserve(path);
                // Hashed again by the writer: the old tree's file may have changed since.
                arrivals->submit(record([&, rel = path] { on_arrival(rel, ""); }));
                continue;
            }
        }
        if (!repos[p.repo].url.empty()) {
            fs::create_directories((downloads / path).parent_path());
            remote.push_back({repos[p.repo].url + p.location, downloads / path, p.checksum_type,
                              p.checksum,
                              p.size ? std::optional<std::uint64_t>(p.size) : std::nullopt});
            remote_paths.push_back(path);
            continue;
        }
        wanted[repos[p.repo].tree][repos[p.repo].root + p.location] = path;
    }
    for (auto& entry : wanted) {
        SourceTree* tree = entry.first;  // named, not bound: lambdas may not capture bindings
        const auto& files = entry.second;
        std::set<std::string> paths;
        for (const auto& [src, dst] : files) paths.insert(src);
        tree->stream(paths, [&](const std::string& src, ByteStream& in) {
            const std::string& rel = files.at(src);
            const PackageRef& p = selected.at(rel);
            AtomicFile f(staging->path() / rel, 0644);
            Hasher repo_hash(p.checksum_type);
            std::optional<Hasher> sha256;
            if (p.checksum_type != ChecksumType::sha256) sha256.emplace(ChecksumType::sha256);
            char buf[1 << 16];
            std::uint64_t size = 0;
            while (std::size_t n = in.read(buf, sizeof buf)) {
                repo_hash.update(buf, n);
                if (sha256) sha256->update(buf, n);
                f.write({buf, n});
                size += n;
            }
            std::string actual = repo_hash.hex_digest();
            if (actual != p.checksum) {
                throw InputError(tree->name() + ": " + src + ": checksum mismatch (" +
                                 checksum_type_name(p.checksum_type) + " expected " + p.checksum +
                                 ", got " + actual + ")");
            }
            if (p.size && size != p.size) {
                throw InputError(tree->name() + ": " + src + ": " + std::to_string(size) +
                                 " bytes, repodata says " + std::to_string(p.size));
            }
            f.commit();
            sha256_of[rel] = sha256 ? sha256->hex_digest() : actual;
            repodata->reserve(rel);
            arrivals->submit(record([&, rel, sum = sha256_of[rel]] { on_arrival(rel, sum); }));
        });
        for (const auto& [src, dst] : files) {
            if (!sha256_of.contains(dst))
                throw InputError(tree->name() + ": " + src + " is missing");
        }
    }
    if (!remote.empty()) {
        ctx.log("fetching " + std::to_string(remote.size()) + " packages");
        for (const auto& rel : remote_paths) repodata->reserve(rel);
        // As each download is verified and in place: into the new tree, synced (beside the
        // other transfers, not all at the end), its repodata entries.
        // As each download is verified and in place: into the new tree, its write-out to the
        // disk started (sync_file_range: no wait, no journal commit; publish()'s fsync then
        // finds the data written), its repodata entries made.
        auto arrived = [&](std::size_t i) {
            arrivals->submit(record([&, i] {
                const std::string& rel = remote_paths[i];
                fs::path dest = staging->path() / rel;
                if (::link(remote[i].dest.c_str(), dest.c_str()) != 0)
                    fs::copy_file(remote[i].dest, dest, fs::copy_options::overwrite_existing);
                if (int fd = ::open(dest.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
                    ::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
                    ::close(fd);
                }
                const PackageRef& p = selected.at(rel);
                on_arrival(rel, p.checksum_type == ChecksumType::sha256 ? p.checksum : "");
            }));
        };
        auto results = fetcher(ctx).fetch_all(remote, arrived);
        std::vector<std::string> failed;
        for (const auto& r : results) {
            if (!r.ok) failed.push_back(r.error);
        }
        if (!failed.empty()) {
            std::string shown;
            for (std::size_t i = 0; i < failed.size() && i < 5; ++i) shown += "\n  " + failed[i];
            if (failed.size() > 5)
                shown += "\n  … and " + std::to_string(failed.size() - 5) + " more";
            throw Error(std::to_string(failed.size()) + " of " + std::to_string(remote.size()) +
                        " packages could not be fetched (what was fetched is kept in " +
                        downloads.string() + " for the next run):" + shown);
        }
        arrivals.reset();  // every arrival handled
        for (std::size_t i = 0; i < remote.size(); ++i) {
            const std::string& rel = remote_paths[i];
            fs::path dest = staging->path() / rel;
            const PackageRef& p = selected.at(rel);
            sha256_of[rel] = p.checksum_type == ChecksumType::sha256
                                 ? p.checksum
                                 : file_checksum_hex(ChecksumType::sha256, dest);
        }
    }
    arrivals.reset();
    if (!arrival_error.empty()) throw Error(arrival_error);
    ctx.log("copied " + std::to_string(sha256_of.size()) + " packages, reused " +
            std::to_string(summary.reused));
}

void MirrorBuild::place_images() {
    if (images.empty()) return;
    summary.images = images.size();
    summary.images_reused = mirror::place_images(images, staging->path(), out, old_lock);
    ctx.log("copied " + std::to_string(images.size() - summary.images_reused) +
            " cloud images, reused " + std::to_string(summary.images_reused));
}

void MirrorBuild::check_signatures() {
    // Signatures: against the site's keys only. Bad or unknown-key signatures always stop
    // the run; unsigned packages do when the site requires signatures.
    // Each was checked as it arrived (materialize()).
    std::vector<std::string> refused;
    for (const auto& [path, p] : selected) {
        auto checked = checks.find(path);
        if (checked == checks.end()) throw Error(path + ": its signature was never checked");
        const SignatureCheck& c = checked->second;
        signature_of[path] = to_string(c.state);
        switch (c.state) {
            case SignatureCheck::State::verified:
                ++summary.verified_signatures;
                break;
            case SignatureCheck::State::unsigned_package:
                summary.unsigned_packages.push_back(p.file_name());
                if (site.media.require_signatures)
                    refused.push_back(p.file_name() + ": not signed");
                break;
            case SignatureCheck::State::bad:
                refused.push_back(p.file_name() + ": bad signature (" + c.detail + ")");
                break;
            case SignatureCheck::State::unknown_key:
                refused.push_back(p.file_name() + ": signed with a key not in media.gpg_keys (" +
                                  c.detail + ")");
                break;
            case SignatureCheck::State::unchecked:
                break;
        }
    }
    if (!refused.empty()) {
        std::string shown;
        for (std::size_t i = 0; i < refused.size() && i < 10; ++i) shown += "\n  " + refused[i];
        if (refused.size() > 10)
            shown += "\n  … and " + std::to_string(refused.size() - 10) + " more";
        throw InputError(std::to_string(refused.size()) +
                         " packages fail the signature check:" + shown);
    }
    if (!summary.unsigned_packages.empty()) {
        ctx.log(std::to_string(summary.unsigned_packages.size()) + " packages are not signed" +
                (site.media.gpg_keys.empty() ? " (no media.gpg_keys: signatures are not checked)"
                                             : ""));
    }
}

void MirrorBuild::write_repodata() {
    // Repodata for EL7 too: gzip XML (plus sqlite for EL7's yum; dnf reads the XML with
    // libsolv), never zstd; comps, modules and updateinfo carried over.
    ctx.log("writing repodata for " + std::to_string(selected.size()) + " packages");
    repodata->finish({comps, modules_yaml, updateinfo});
    repodata.reset();
}

void MirrorBuild::write_lock() {
    // The lock: every package and the source media's hashes.
    json lock = {{"format", 1}, {"site", site.name}, {"distro", site::to_string(site.distro)}};
    json srcs = json::array();
    for (const auto& src : sources) {
        json s = {{"location", src.location}, {"kind", src.kind}};
        struct stat st {};
        if (src.kind != "directory" && ::stat(src.location.c_str(), &st) == 0) {
            s["size"] = static_cast<std::uint64_t>(st.st_size);
            s["mtime"] = static_cast<std::int64_t>(st.st_mtime);
            s["sha256"] = source_sha256_cached(src.location, old_lock);
        }
        srcs.push_back(s);
        summary.sources.push_back(src.location);
    }
    for (const auto& repo : repos) {
        if (repo.url.empty()) continue;
        srcs.push_back(
            {{"location", repo.source}, {"kind", "url"}, {"revision", repo.md.revision}});
        summary.sources.push_back(repo.source);
    }
    lock["sources"] = srcs;
    json packages = json::array();
    for (const auto& [path, p] : selected) {
        std::string sha256;
        if (auto it = sha256_of.find(path); it != sha256_of.end()) {
            sha256 = it->second;
        } else {
            sha256 = old_packages.at(path).value("sha256", "");
        }
        packages.push_back(
            {{"path", path},
             {"name", p.name},
             {"epoch", p.epoch.empty() ? "0" : p.epoch},
             {"version", p.version},
             {"release", p.release},
             {"arch", p.arch},
             {"sha256", sha256},
             {"size", p.size},
             {"repo_checksum", std::string(checksum_type_name(p.checksum_type)) + ":" + p.checksum},
             {"source", repos[p.repo].name},
             {"signature", signature_of.at(path)}});
        summary.bytes += p.size;
    }
    lock["packages"] = packages;
    lock["images"] = images_lock(images);
    lock["roles"] = role_requests;
    lock["inputs"] = fingerprint;
    write_file_atomic(staging->path() / lock_file_name, lock.dump(1) + "\n", 0644);
    summary.packages = selected.size();
}

void MirrorBuild::publish() {
    // Everything in the new tree reaches the disk before the tree becomes visible: its files,
    // then its folders. Many threads at once, so the file system batches the journal commits;
    // only this tree, not whatever else is dirty on the file system. The downloads' data is
    // mostly written by now (its write-out started as each arrived).
    ctx.log("syncing the new tree");
    std::vector<fs::path> files, dirs;
    for (auto it = fs::recursive_directory_iterator(staging->path());
         it != fs::recursive_directory_iterator(); ++it) {
        (it->is_directory() ? dirs : files).push_back(it->path());
    }
    dirs.push_back(staging->path());
    auto sync_all = [](const std::vector<fs::path>& paths, int flags) {
        std::atomic<std::size_t> next{0};
        std::atomic<int> failed_errno{0};
        auto work = [&] {
            for (std::size_t i; (i = next++) < paths.size();) {
                int fd = ::open(paths[i].c_str(), flags | O_CLOEXEC);
                if (fd < 0 || ::fsync(fd) != 0) failed_errno = errno;
                if (fd >= 0) ::close(fd);
            }
        };
        std::vector<std::thread> threads;
        for (int t = 0; t < 16; ++t) threads.emplace_back(work);
        for (auto& t : threads) t.join();
        return failed_errno.load();
    };
    if (int err = sync_all(files, O_RDONLY); err != 0)
        throw SystemError("cannot sync " + staging->path().string(), err);
    if (int err = sync_all(dirs, O_RDONLY | O_DIRECTORY); err != 0)
        throw SystemError("cannot sync " + staging->path().string(), err);
    // Swap the new tree in, then drop the old one.
    if (fs::exists(out)) {
        if (::renameat2(AT_FDCWD, staging->path().c_str(), AT_FDCWD, out.c_str(),
                        RENAME_EXCHANGE) != 0) {
            throw SystemError("cannot swap " + out.string() + " into place", errno);
        }
        // staging now holds the previous output; its destructor removes it.
    } else {
        if (::rename(staging->path().c_str(), out.c_str()) != 0) {
            throw SystemError("cannot move " + out.string() + " into place", errno);
        }
        staging->release();
    }
    ctx.log("published " + out.string());
    std::error_code cleanup;
    fs::remove_all(downloads, cleanup);
}

}  // namespace

MirrorSummary build_mirror(const site::Site& site, const MirrorOptions& options) {
    MirrorBuild build(site, options);
    if (!options.dry_run) build.hash_images();
    build.open_sources();
    build.build_pool();
    build.select_packages();
    if (options.dry_run) return build.planned();
    build.merge_metadata();
    if (build.up_to_date()) return build.summary;
    build.materialize();
    build.place_images();
    build.check_signatures();
    build.write_repodata();
    build.write_lock();
    build.publish();
    return build.summary;
}

}  // namespace airstrap::mirror
