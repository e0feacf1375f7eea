// The mirror's inputs: the vendor ISO and the site's repositories (tarballs, folders,
// http(s) URLs), opened in place, each repository's metadata read and checked against its
// repomd.xml. A tree of RPMs without repodata gets its own from createrepo_c. Internal to
// the mirror (mirror.cpp builds the output from what this reads).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/file_io.hpp"
#include "repo-mirror/closure.hpp"
#include "repo-mirror/fetch.hpp"
#include "repo-mirror/mirror.hpp"
#include "repo-mirror/repodata.hpp"
#include "repo-mirror/tree.hpp"
#include "site/model.hpp"

namespace airstrap::mirror {

// One repository among the sources: in a tree (the ISO's BaseOS/, a tarball's root) or at
// a URL, with its metadata once read.
struct SourceRepo {
    std::string name;  // "CentOS-7.iso:BaseOS"
    std::string url;   // base URL ending in '/', for repositories served over HTTP(S)
    SourceTree* tree = nullptr;
    std::string root;  // prefix inside the tree: "" or "BaseOS/"
    RepoMd md;
    RepoMetadata meta;
    std::string updateinfo;
    std::string modules;
    std::string source;  // the site's location, for the lockfile
};

// A source the site names, opened in place.
struct Source {
    std::string location;
    std::string kind;
    std::unique_ptr<SourceTree> tree;
    std::unique_ptr<TempDir> indexed;  // repodata we made for a tree that had none
    std::unique_ptr<SourceTree> indexed_tree;
};

// What reading the sources and building the output share: the run's options, the fetcher
// for HTTP(S) sources, the log.
struct MirrorContext {
    const site::Site& site;
    const MirrorOptions& options;
    std::unique_ptr<Fetcher> fetcher;  // made on first use
    void log(const std::string& line) const {
        if (options.log) options.log(line);
    }
};

// The run's fetcher, made on first use.
Fetcher& fetcher(MirrorContext& ctx);

// Opens every source the site names (the vendor ISO first, then media.repos in site order)
// and reads each repository's metadata; index folders go under `scratch_parent`.
// InputError when the site names none, or a source is unreadable.
void open_sources(MirrorContext& ctx, const std::filesystem::path& scratch_parent,
                  std::vector<Source>& sources, std::vector<SourceRepo>& repos);

}  // namespace airstrap::mirror
