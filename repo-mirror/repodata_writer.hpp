// A repository's repodata written in process with libcreaterepo_c while its packages arrive:
// each package's header is read as soon as the package is in place (from any thread), its
// primary, filelists and other entries (and, for EL7's yum, its sqlite rows) are appended in
// a fixed order, so that the repodata is complete moments after the last package lands and
// is the same for the same packages. finish() closes the files, adds comps, modules and
// updateinfo, and writes repomd.xml (sha256, gzip, checksums in the file names, as
// `createrepo_c --general-compress-type=gz` writes them). The one repodata path of
// `airstrap mirror`: for its output and for a source tree of RPMs without repodata.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

struct headerToken_s;  // librpm's Header

namespace airstrap::mirror {

struct RepodataExtras {
    std::string comps;       // comps.xml text ("" for none)
    std::string modules;     // modules.yaml text
    std::string updateinfo;  // updateinfo.xml text
};

// What a caller already has of a package, so that nothing is read twice: its sha256 (hex,
// checked against the source's metadata) and its header (the signature check's).
struct KnownPackage {
    std::string sha256;
    headerToken_s* header = nullptr;  // borrowed for the call
};

class RepodataWriter {
  public:
    // `repo`: the repository's root (repodata/ is made in it); `packages`: how many will be
    // added (primary.xml states it first); `sqlite`: the sqlite databases too (EL7's yum).
    RepodataWriter(const std::filesystem::path& repo, std::size_t packages, bool sqlite);
    ~RepodataWriter();  // without finish(): what was written is removed
    RepodataWriter(const RepodataWriter&) = delete;
    RepodataWriter& operator=(const RepodataWriter&) = delete;

    // The next place in the metadata is `rel`'s (a path relative to the repository): entries
    // are written in the order of these calls, whatever order add() comes in.
    void reserve(const std::string& rel);
    // Describes repo/rel (from `known`, reading what it lacks: the header, the sha256) and
    // writes its entries once every earlier reservation's are. Any thread; Error naming the
    // file when it is no readable RPM.
    void add(const std::string& rel, const KnownPackage& known = {});
    // Every reserved package added: the files closed, the extras added, repomd.xml written.
    // Error naming what was never added.
    void finish(const RepodataExtras& extras);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace airstrap::mirror
