#include "repo-mirror/sources.hpp"

#include <map>
#include <set>

#include "common/error.hpp"
#include "repo-mirror/repodata_writer.hpp"

namespace airstrap::mirror {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t max_repomd_bytes = 4 << 20;

// Repository roots in a tree: every folder that holds repodata/repomd.xml.
std::vector<std::string> repo_roots(const SourceTree& tree) {
    std::vector<std::string> roots;
    for (const auto& [path, size] : tree.files()) {
        const std::string suffix = "repodata/repomd.xml";
        if (path == suffix)
            roots.push_back("");
        else if (path.ends_with("/" + suffix))
            roots.push_back(path.substr(0, path.size() - suffix.size()));
    }
    return roots;
}

// A tree with RPMs but no repodata (a tarball of packages): copy the RPMs into a scratch
// folder and index them there (repodata_writer.hpp).
void index_rpms(MirrorContext& ctx, Source& src, const fs::path& scratch_parent) {
    std::set<std::string> rpms;
    for (const auto& [path, size] : src.tree->files()) {
        if (path.ends_with(".rpm") && !path.ends_with(".src.rpm")) rpms.insert(path);
    }
    if (rpms.empty()) {
        throw InputError(src.location + ": holds neither repodata/repomd.xml nor RPM packages");
    }
    ctx.log(src.location + ": no repodata; indexing " + std::to_string(rpms.size()) + " packages");
    src.indexed = std::make_unique<TempDir>(scratch_parent, "airstrap-index");
    RepodataWriter repodata(src.indexed->path(), rpms.size(), false);
    std::size_t seen = 0;
    src.tree->stream(rpms, [&](const std::string& path, ByteStream& in) {
        fs::path out = src.indexed->path() / path;
        fs::create_directories(out.parent_path());
        AtomicFile f(out, 0644);
        char buf[1 << 16];
        while (std::size_t n = in.read(buf, sizeof buf)) f.write({buf, n});
        f.commit();
        repodata.reserve(path);
        repodata.add(path);
        ++seen;
    });
    if (seen != rpms.size())
        throw InputError(src.location + ": some of its packages could not be read");
    repodata.finish({});
    src.indexed_tree = open_directory(src.indexed->path());
}

}  // namespace

Fetcher& fetcher(MirrorContext& ctx) {
    if (!ctx.fetcher) {
        FetchOptions o;
        o.jobs = ctx.options.jobs;
        o.on_progress = ctx.options.progress;
        o.sync_each_file = false;  // publish() syncs the new tree once
        ctx.fetcher = std::make_unique<Fetcher>(o);
    }
    return *ctx.fetcher;
}

namespace {

// Metadata of a repository served over HTTP(S): repomd.xml, then each file it lists, checked
// against repomd before use.
void load_remote_repo(MirrorContext& ctx, SourceRepo& repo) {
    const auto& policy = ctx.options.metadata;
    std::string repomd =
        fetcher(ctx).fetch_to_memory(repo.url + "repodata/repomd.xml", max_repomd_bytes);
    repo.md = parse_repomd(repomd, repo.url + "repodata/repomd.xml", policy);
    auto load = [&](const RepoMdRecord* r) -> std::string {
        if (!r) return {};
        std::uint64_t cap = r->size ? *r->size : policy.max_open_bytes;
        std::string raw =
            fetcher(ctx).fetch_to_memory(repo.url + r->href, static_cast<std::size_t>(cap));
        return verify_and_open(*r, raw, repo.url + r->href, policy);
    };
    repo.meta.primary = load(repo.md.find("primary"));
    repo.meta.filelists = load(repo.md.find("filelists"));
    repo.modules = load(repo.md.find("modules"));
    repo.updateinfo = load(repo.md.find("updateinfo"));
    const RepoMdRecord* group = repo.md.find("group");
    repo.meta.comps = load(group ? group : repo.md.find("group_gz"));
    repo.meta.name = repo.name;
}

void load_repo(MirrorContext& ctx, SourceRepo& repo) {
    if (!repo.url.empty()) return load_remote_repo(ctx, repo);
    const auto& policy = ctx.options.metadata;
    std::string repomd_path = repo.root + "repodata/repomd.xml";
    std::string repomd = repo.tree->read(repomd_path, max_repomd_bytes);
    repo.md = parse_repomd(repomd, repo.name + ": " + repomd_path, policy);
    std::map<std::string, const RepoMdRecord*> wanted;
    for (const char* type : {"primary", "filelists", "modules", "updateinfo"}) {
        if (auto r = repo.md.find(type)) wanted[repo.root + r->href] = r;
    }
    if (auto g = repo.md.find("group"))
        wanted[repo.root + g->href] = g;
    else if (auto gz = repo.md.find("group_gz"))
        wanted[repo.root + gz->href] = gz;
    std::set<std::string> paths;
    for (const auto& [p, r] : wanted) {
        if (!repo.tree->files().contains(p)) {
            throw InputError(repo.name + ": repomd.xml lists " + p + ", which is missing");
        }
        paths.insert(p);
    }
    repo.tree->stream(paths, [&](const std::string& path, ByteStream& in) {
        const RepoMdRecord* r = wanted.at(path);
        std::uint64_t cap = r->size ? *r->size : policy.max_open_bytes;
        std::string raw;
        char buf[1 << 16];
        while (std::size_t n = in.read(buf, sizeof buf)) {
            if (raw.size() + n > cap)
                throw InputError(repo.name + ": " + path + " is larger than repomd.xml says");
            raw.append(buf, n);
        }
        std::string text = verify_and_open(*r, raw, repo.name + ": " + path, policy);
        if (r->type == "primary")
            repo.meta.primary = std::move(text);
        else if (r->type == "filelists")
            repo.meta.filelists = std::move(text);
        else if (r->type == "modules")
            repo.modules = std::move(text);
        else if (r->type == "updateinfo")
            repo.updateinfo = std::move(text);
        else
            repo.meta.comps = std::move(text);
    });
    repo.meta.name = repo.name;
}

}  // namespace

void open_sources(MirrorContext& ctx, const fs::path& scratch_parent, std::vector<Source>& sources,
                  std::vector<SourceRepo>& repos) {
    // The vendor ISO, then the site's extra repositories, in site order.
    if (!ctx.site.media.vendor_iso.empty()) {
        sources.push_back({ctx.site.media.vendor_iso, "iso",
                           open_archive(ctx.site.media.vendor_iso), nullptr, nullptr});
    }
    for (const auto& r : ctx.site.media.repos) {
        if (r.kind == site::RepoSource::Kind::url) {
            if (r.location.starts_with("file://")) {
                sources.push_back({r.location, "directory", open_directory(r.location.substr(7)),
                                   nullptr, nullptr});
                continue;
            }
            SourceRepo repo;
            repo.url = r.location.ends_with("/") ? r.location : r.location + "/";
            repo.name = repo.url;
            repo.source = r.location;
            repos.push_back(std::move(repo));
            continue;
        }
        std::string kind = r.kind == site::RepoSource::Kind::tarball ? "tarball" : "directory";
        sources.push_back({r.location, kind, open_tree(r.location), nullptr, nullptr});
    }
    if (sources.empty() && repos.empty()) {
        throw InputError("the site names no media: set media.vendor_iso or media.repos");
    }
    for (auto& repo : repos) {
        ctx.log("reading " + repo.url);
        load_repo(ctx, repo);
    }
    for (auto& src : sources) {
        ctx.log("reading " + src.location);
        auto roots = repo_roots(*src.tree);
        SourceTree* tree = src.tree.get();
        if (roots.empty()) {
            index_rpms(ctx, src, scratch_parent);
            tree = src.indexed_tree.get();
            roots = {""};
        }
        for (const auto& root : roots) {
            SourceRepo repo;
            repo.tree = tree;
            repo.root = root;
            repo.source = src.location;
            repo.name = src.location + (root.empty() ? "" : ":" + root.substr(0, root.size() - 1));
            load_repo(ctx, repo);
            repos.push_back(std::move(repo));
        }
    }
}

}  // namespace airstrap::mirror
