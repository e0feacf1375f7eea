#include "repo-mirror/repodata_writer.hpp"

#include <sys/stat.h>

// createrepo_c's package.h names a member `requires`, a keyword in C++20: the member is spelt
// differently here (same layout; this file never touches it).
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wkeyword-macro"
#endif
#define requires cr_requires_
#include <createrepo_c/createrepo_c.h>
#undef requires
#if defined(__clang__)
#pragma clang diagnostic pop
#endif

#include <array>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <mutex>
#include <tuple>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "common/file_io.hpp"

namespace airstrap::mirror {

namespace fs = std::filesystem;

namespace {

// createrepo_c's default: the newest ten changelog entries of each package in other.xml.
constexpr int changelog_limit = 10;
constexpr std::array<const char*, 3> kinds = {"primary", "filelists", "other"};

// A GError's message, freeing it.
std::string take(GError* e) {
    std::string s = e && e->message ? e->message : "unknown createrepo_c error";
    if (e) g_error_free(e);
    return s;
}

// Drops libcreaterepo_c's own log lines: every failure comes back as a GError, which the
// exceptions here carry with the file they are about.
void quiet(const gchar*, GLogLevelFlags, const gchar*, gpointer) {}

// libcreaterepo_c's header reader and XML dumper, once per process (not thread-safe itself).
void init_library() {
    static std::once_flag once;
    std::call_once(once, [] {
        g_log_set_handler(
            "C_CREATEREPOLIB",
            static_cast<GLogLevelFlags>(G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION),
            quiet, nullptr);
        cr_package_parser_init();
        cr_xml_dump_init();
    });
}

struct PackageFree {
    void operator()(cr_Package* p) const { cr_package_free(p); }
};
using Package = std::unique_ptr<cr_Package, PackageFree>;

// A package's entries, ready to be written in its turn.
struct Entries {
    std::string rel;
    std::array<std::string, 3> xml;  // primary, filelists, other
    Package package;                 // for the sqlite rows
};

// A finished file's repomd record, owned until the repomd takes it.
struct Record {
    cr_RepomdRecord* r = nullptr;
    explicit Record(const std::string& type, const fs::path& path)
        : r(cr_repomd_record_new(type.c_str(), path.c_str())) {
        if (!r) throw Error("createrepo_c: out of memory");
    }
    ~Record() {
        if (r) cr_repomd_record_free(r);
    }
    Record(const Record&) = delete;
    Record& operator=(const Record&) = delete;
    void fill(const std::string& what) {
        GError* err = nullptr;
        if (cr_repomd_record_fill(r, CR_CHECKSUM_SHA256, &err) != CRE_OK)
            throw Error("repodata: cannot checksum " + what + ": " + take(err));
    }
};

struct StatFree {
    void operator()(cr_ContentStat* s) const { cr_contentstat_free(s, nullptr); }
};
using Stat = std::unique_ptr<cr_ContentStat, StatFree>;

Stat new_stat() {
    GError* err = nullptr;
    cr_ContentStat* s = cr_contentstat_new(CR_CHECKSUM_SHA256, &err);
    if (!s) throw Error("createrepo_c: " + take(err));
    return Stat(s);
}

}  // namespace

struct RepodataWriter::Impl {
    fs::path repo, dir;
    std::size_t total = 0;
    bool sqlite = false;
    std::mutex mu;
    std::map<std::string, std::size_t> place;  // rel → its place in the order
    std::vector<std::string> order;            // rel by place
    std::size_t written = 0;                   // places written so far
    std::map<std::size_t, Entries> waiting;    // added before their turn
    std::array<Stat, 3> stats;
    std::array<cr_XmlFile*, 3> xml{};
    std::array<cr_SqliteDb*, 3> db{};
    bool finished = false;

    ~Impl() {
        for (auto*& f : xml) {
            if (f) cr_xmlfile_close(f, nullptr);
            f = nullptr;
        }
        for (auto*& d : db) {
            if (d) cr_db_close(d, nullptr);
            d = nullptr;
        }
        if (!finished) {
            std::error_code ec;
            fs::remove_all(dir, ec);
        }
    }

    fs::path xml_path(std::size_t i) const { return dir / (std::string(kinds[i]) + ".xml.gz"); }
    fs::path db_path(std::size_t i) const { return dir / (std::string(kinds[i]) + ".sqlite"); }

    // Writes every entry whose turn has come (mu held).
    void flush() {
        for (auto it = waiting.begin(); it != waiting.end() && it->first == written;
             it = waiting.erase(it), ++written) {
            Entries& e = it->second;
            for (std::size_t i = 0; i < 3; ++i) {
                GError* err = nullptr;
                if (cr_xmlfile_add_chunk(xml[i], e.xml[i].c_str(), &err) != CRE_OK)
                    throw Error("repodata: cannot write " + xml_path(i).string() + ": " +
                                take(err));
                if (db[i] && cr_db_add_pkg(db[i], e.package.get(), &err) != CRE_OK)
                    throw Error("repodata: cannot add " + e.rel + " to " + db_path(i).string() +
                                ": " + take(err));
            }
        }
    }
};

RepodataWriter::RepodataWriter(const fs::path& repo, std::size_t packages, bool sqlite)
    : impl_(std::make_unique<Impl>()) {
    init_library();
    Impl& m = *impl_;
    m.repo = repo;
    m.dir = repo / "repodata";
    m.total = packages;
    m.sqlite = sqlite;
    fs::create_directories(m.dir);
    for (std::size_t i = 0; i < 3; ++i) {
        m.stats[i] = new_stat();
        GError* err = nullptr;
        m.xml[i] = cr_xmlfile_sopen(m.xml_path(i).c_str(), static_cast<cr_XmlFileType>(i),
                                    CR_CW_GZ_COMPRESSION, m.stats[i].get(), &err);
        if (!m.xml[i])
            throw Error("repodata: cannot create " + m.xml_path(i).string() + ": " + take(err));
        if (cr_xmlfile_set_num_of_pkgs(m.xml[i], static_cast<long>(packages), &err) != CRE_OK)
            throw Error("repodata: " + take(err));
        if (sqlite) {
            m.db[i] = cr_db_open(m.db_path(i).c_str(), static_cast<cr_DatabaseType>(i), &err);
            if (!m.db[i])
                throw Error("repodata: cannot create " + m.db_path(i).string() + ": " + take(err));
        }
    }
}

RepodataWriter::~RepodataWriter() = default;

void RepodataWriter::reserve(const std::string& rel) {
    std::lock_guard lock(impl_->mu);
    if (!impl_->place.emplace(rel, impl_->order.size()).second)
        throw Error("repodata: " + rel + " was reserved twice");
    impl_->order.push_back(rel);
}

void RepodataWriter::add(const std::string& rel, const KnownPackage& known) {
    fs::path file = impl_->repo / rel;
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) throw SystemError("cannot read " + file.string(), errno);
    GError* err = nullptr;
    // Outside the lock: the package's header (unless known) and its sha256, the pkgid (unless
    // known: hashing a large package again costs more than reading its header), set as
    // cr_package_from_rpm sets them.
    Package p(known.header
                  ? cr_package_from_header(known.header, changelog_limit, CR_HDRR_NONE, &err)
                  : cr_package_from_rpm_base(file.c_str(), changelog_limit, CR_HDRR_NONE, &err));
    if (!p) throw Error("repodata: " + file.string() + " is no readable RPM: " + take(err));
    p->location_href = cr_safe_string_chunk_insert(p->chunk, rel.c_str());
    p->checksum_type =
        cr_safe_string_chunk_insert(p->chunk, cr_checksum_name_str(CR_CHECKSUM_SHA256));
    p->time_file = st.st_mtime;
    p->size_package = st.st_size;
    if (known.sha256.empty()) {
        char* sum = cr_checksum_file(file.c_str(), CR_CHECKSUM_SHA256, &err);
        if (!sum) throw Error("repodata: cannot read " + file.string() + ": " + take(err));
        p->pkgId = cr_safe_string_chunk_insert(p->chunk, sum);
        std::free(sum);
    } else {
        p->pkgId = cr_safe_string_chunk_insert(p->chunk, known.sha256.c_str());
    }
    cr_HeaderRangeStruct range = cr_get_header_byte_range(file.c_str(), &err);
    if (err) throw Error("repodata: " + file.string() + " is no readable RPM: " + take(err));
    p->rpm_header_start = range.start;
    p->rpm_header_end = range.end;
    cr_XmlStruct x = cr_xml_dump(p.get(), &err);
    if (err) {
        std::free(x.primary);
        std::free(x.filelists);
        std::free(x.other);
        throw Error("repodata: cannot describe " + file.string() + ": " + take(err));
    }
    Entries e;
    e.rel = rel;
    for (auto [i, chunk] :
         {std::pair<std::size_t, char*>{0, x.primary}, {1, x.filelists}, {2, x.other}}) {
        e.xml[i] = chunk ? chunk : "";
        std::free(chunk);
    }
    if (impl_->sqlite) e.package = std::move(p);
    std::lock_guard lock(impl_->mu);
    auto it = impl_->place.find(rel);
    if (it == impl_->place.end()) throw Error("repodata: " + rel + " was added unreserved");
    impl_->waiting.emplace(it->second, std::move(e));
    impl_->flush();
}

void RepodataWriter::finish(const RepodataExtras& extras) {
    Impl& m = *impl_;
    std::lock_guard lock(m.mu);
    if (m.written != m.order.size())
        throw Error("repodata: " + m.order[m.written] + " was never added");
    if (m.order.size() != m.total)
        throw Error("repodata: " + std::to_string(m.order.size()) + " packages for the " +
                    std::to_string(m.total) + " announced");
    std::vector<std::unique_ptr<Record>> records;
    GError* err = nullptr;
    for (std::size_t i = 0; i < 3; ++i) {
        int rc = cr_xmlfile_close(m.xml[i], &err);
        m.xml[i] = nullptr;
        if (rc != CRE_OK)
            throw Error("repodata: cannot finish " + m.xml_path(i).string() + ": " + take(err));
        auto& rec = records.emplace_back(std::make_unique<Record>(kinds[i], m.xml_path(i)));
        cr_repomd_record_load_contentstat(rec->r, m.stats[i].get());
        rec->fill(m.xml_path(i).string());
    }
    // A compressed copy of `file` with its record (the plain file removed unless `keep`).
    auto compressed = [&](const std::string& type, const fs::path& file, bool keep) {
        fs::path gz = file.string() + ".gz";
        Stat stat = new_stat();
        if (cr_compress_file_with_stat(file.c_str(), gz.c_str(), CR_CW_GZ_COMPRESSION, stat.get(),
                                       nullptr, FALSE, &err) != CRE_OK)
            throw Error("repodata: cannot compress " + file.string() + ": " + take(err));
        if (!keep) fs::remove(file);
        auto& rec = records.emplace_back(std::make_unique<Record>(type, gz));
        cr_repomd_record_load_contentstat(rec->r, stat.get());
        rec->fill(gz.string());
    };
    if (m.sqlite) {
        // Each database names the checksum of the XML it was made beside, as yum checks.
        for (std::size_t i = 0; i < 3; ++i) {
            if (cr_db_dbinfo_update(m.db[i], records[i]->r->checksum, &err) != CRE_OK ||
                cr_db_close(m.db[i], &err) != CRE_OK) {
                m.db[i] = nullptr;
                throw Error("repodata: cannot finish " + m.db_path(i).string() + ": " + take(err));
            }
            m.db[i] = nullptr;
            compressed(std::string(kinds[i]) + "_db", m.db_path(i), false);
        }
    }
    if (!extras.comps.empty()) {
        // comps: plain (yum's "group") and compressed (dnf's "group_gz").
        fs::path file = m.dir / "comps.xml";
        write_file_atomic(file, extras.comps, 0644);
        records.emplace_back(std::make_unique<Record>("group", file))->fill(file.string());
        compressed("group_gz", file, true);
    }
    for (auto [type, name, text] : {std::tuple<const char*, const char*, const std::string*>{
                                        "modules", "modules.yaml", &extras.modules},
                                    {"updateinfo", "updateinfo.xml", &extras.updateinfo}}) {
        if (text->empty()) continue;
        fs::path file = m.dir / name;
        write_file_atomic(file, *text, 0644);
        compressed(type, file, false);
    }
    // Checksums in the file names (a client never mixes files of two versions), then repomd.
    struct RepomdFree {
        void operator()(cr_Repomd* r) const { cr_repomd_free(r); }
    };
    std::unique_ptr<cr_Repomd, RepomdFree> repomd(cr_repomd_new());
    for (auto& rec : records) {
        if (cr_repomd_record_rename_file(rec->r, &err) != CRE_OK)
            throw Error("repodata: cannot rename " + std::string(rec->r->location_href) + ": " +
                        take(err));
    }
    for (auto& rec : records) cr_repomd_set_record(repomd.get(), std::exchange(rec->r, nullptr));
    char* text = cr_xml_dump_repomd(repomd.get(), &err);
    if (!text) throw Error("repodata: cannot write repomd.xml: " + take(err));
    std::string repomd_xml(text);
    std::free(text);
    write_file_atomic(m.dir / "repomd.xml", repomd_xml, 0644);
    m.finished = true;
}

}  // namespace airstrap::mirror
