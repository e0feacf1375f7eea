// Repodata written in process as packages arrive, in any order and from several threads:
// read back by the mirror's own reader and by libsolv, the same as createrepo_c's for the
// same packages, EL7's sqlite beside it, the extras, and every way it can be misused.
#include "repo-mirror/repodata_writer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <set>
#include <thread>

#include "common/checksum.hpp"
#include "common/error.hpp"
#include "common/subprocess.hpp"
#include "repo-mirror/closure.hpp"
#include "repo-mirror/local_repo.hpp"
#include "repo-mirror/signatures.hpp"
#include "tests/unit/test_support.hpp"

namespace fs = std::filesystem;
using namespace airstrap;
using namespace airstrap::mirror;
using airstrap::testutil::message_of;
using airstrap::testutil::put;
using airstrap::testutil::slurp;

namespace {

// Three small RPMs from one rpmbuild (rpm is a build dependency: librpm), made once.
class RepodataWriterTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        std::string pattern = (fs::temp_directory_path() / "airstrap-rpms-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        rpms = new fs::path(pattern);
        put(*rpms / "t.spec",
            "Name: alpha\nVersion: 1.0\nRelease: 1\nSummary: a\nLicense: MIT\nBuildArch: noarch\n"
            "Requires: beta\n%description\na\n"
            "%package -n beta\nSummary: b\nProvides: /usr/bin/beta-tool\n%description -n beta\nb\n"
            "%package -n gamma\nSummary: c\nRequires: /usr/bin/beta-tool\n%description -n "
            "gamma\nc\n"
            "%install\nmkdir -p %{buildroot}/usr/bin\necho a > %{buildroot}/usr/bin/alpha\n"
            "echo b > %{buildroot}/usr/bin/beta-tool\n"
            "%files\n/usr/bin/alpha\n%files -n beta\n/usr/bin/beta-tool\n%files -n gamma\n"
            "%changelog\n* Mon Dec 07 2026 Test <t@example.org> - 1.0-1\n- first\n");
        SystemCommandRunner run;
        ProcessResult r =
            run.run({"rpmbuild", "-bb", "--quiet", "--define",
                     "_topdir " + (*rpms / "top").string(), (*rpms / "t.spec").string()});
        ASSERT_EQ(r.exit_code, 0) << r.output;
    }
    static void TearDownTestSuite() {
        fs::remove_all(*rpms);
        delete rpms;
    }
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "airstrap-repo-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        repo = pattern;
        for (const char* n : {"alpha", "beta", "gamma"}) {
            fs::path src = *rpms / "top/RPMS/noarch" / (std::string(n) + "-1.0-1.noarch.rpm");
            fs::create_directories(repo / "Packages" / std::string(1, n[0]));
            fs::copy_file(src, repo / rel(n));
        }
    }
    void TearDown() override { fs::remove_all(repo); }

    static std::string rel(const std::string& n) {
        return "Packages/" + std::string(1, n[0]) + "/" + n + "-1.0-1.noarch.rpm";
    }
    // The package names in primary.xml, in its order.
    static std::vector<std::string> names(const std::string& primary) {
        std::vector<std::string> out;
        std::regex name("<name>([^<]+)</name>");
        for (auto it = std::sregex_iterator(primary.begin(), primary.end(), name);
             it != std::sregex_iterator(); ++it)
            out.push_back((*it)[1]);
        return out;
    }

    static fs::path* rpms;
    fs::path repo;
};
fs::path* RepodataWriterTest::rpms = nullptr;

TEST_F(RepodataWriterTest, OrderIsTheReservationsWhateverOrderPackagesArriveIn) {
    RepodataWriter w(repo, 3, false);
    for (const char* n : {"gamma", "alpha", "beta"}) w.reserve(rel(n));
    // Arriving backwards, from three threads.
    std::vector<std::thread> threads;
    for (const char* n : {"beta", "alpha", "gamma"})
        threads.emplace_back([&w, n] { w.add(rel(n)); });
    for (auto& t : threads) t.join();
    w.finish({});
    RepoMetadata md = load_local_repo(repo);
    EXPECT_EQ(names(md.primary), (std::vector<std::string>{"gamma", "alpha", "beta"}));
    EXPECT_NE(md.primary.find("packages=\"3\""), std::string::npos);
    EXPECT_NE(md.primary.find("<location href=\"" + rel("alpha") + "\"/>"), std::string::npos);
    EXPECT_NE(md.filelists.find("/usr/bin/beta-tool"), std::string::npos);
    // libsolv solves on it: gamma needs a file beta provides, alpha needs beta.
    PackagePool pool;
    pool.add_repo(md);
    std::set<std::string> got;
    for (const auto& p : pool.closure({{"alpha", "gamma"}, {}, {}, false})) got.insert(p.name);
    EXPECT_EQ(got, (std::set<std::string>{"alpha", "beta", "gamma"}));
}

TEST_F(RepodataWriterTest, SameContentAsCreaterepoC) {
    {
        RepodataWriter w(repo, 3, false);
        for (const char* n : {"alpha", "beta", "gamma"}) w.reserve(rel(n));
        for (const char* n : {"alpha", "beta", "gamma"}) w.add(rel(n));
        w.finish({});
    }
    std::string ours = load_local_repo(repo).primary;
    fs::path theirs = repo.string() + "-createrepo";
    fs::create_directories(theirs);
    fs::copy(repo / "Packages", theirs / "Packages", fs::copy_options::recursive);
    SystemCommandRunner run;
    run_checked(run, {"createrepo_c", "--quiet", "--no-database", theirs.string()});
    std::string expected = load_local_repo(theirs).primary;
    fs::remove_all(theirs);
    // Equal but for the file times createrepo_c reads again (the copies are newer).
    std::regex times("<time file=\"[0-9]+\"");
    EXPECT_EQ(std::regex_replace(ours, times, "<time file=\"T\""),
              std::regex_replace(expected, times, "<time file=\"T\""));
}

// What the mirror hands over (the verified sha256, the header its signature check read) gives
// the entries reading the file gives; and the given sha256 is what the entry says.
TEST_F(RepodataWriterTest, KnownChecksumAndHeaderGiveTheSameEntries) {
    fs::path twin = repo.string() + "-twin";
    fs::copy(repo, twin, fs::copy_options::recursive);
    SignatureChecker checker({});
    {
        RepodataWriter read(repo, 3, false), known(twin, 3, false);
        for (const char* n : {"alpha", "beta", "gamma"}) {
            read.reserve(rel(n));
            known.reserve(rel(n));
        }
        for (const char* n : {"alpha", "beta", "gamma"}) {
            read.add(rel(n));
            SignatureCheck c = checker.check(twin / rel(n));
            ASSERT_TRUE(c.header);
            std::string sum = std::string(n) == "gamma"
                                  ? std::string(64, 'f')  // a stand-in: it must be the one used
                                  : file_checksum_hex(ChecksumType::sha256, twin / rel(n));
            known.add(rel(n), {sum, c.header.get()});
        }
        read.finish({});
        known.finish({});
    }
    RepoMetadata a = load_local_repo(repo), b = load_local_repo(twin);
    fs::remove_all(twin);
    std::string gamma_sum = file_checksum_hex(ChecksumType::sha256, repo / rel("gamma"));
    ASSERT_NE(a.primary.find(gamma_sum), std::string::npos);
    EXPECT_NE(b.primary.find(std::string(64, 'f')), std::string::npos);
    std::regex times("<time file=\"[0-9]+\"");
    auto same = [&](std::string text) {
        text = std::regex_replace(text, times, "<time file=\"T\"");
        return std::regex_replace(text, std::regex(std::string(64, 'f')), gamma_sum);
    };
    EXPECT_EQ(same(b.primary), same(a.primary));
    EXPECT_EQ(same(b.filelists), same(a.filelists));
}

TEST_F(RepodataWriterTest, El7GetsSqliteAndExtrasGetTheirRecords) {
    RepodataWriter w(repo, 3, true);
    for (const char* n : {"alpha", "beta", "gamma"}) w.reserve(rel(n));
    for (const char* n : {"alpha", "beta", "gamma"}) w.add(rel(n));
    w.finish({"<?xml version=\"1.0\"?>\n<comps><group><id>core</id></group></comps>\n",
              "---\ndocument: modulemd-defaults\nversion: 1\ndata:\n  module: m\n...\n",
              "<?xml version=\"1.0\"?>\n<updates/>\n"});
    std::string repomd = slurp(repo / "repodata/repomd.xml");
    for (const char* type : {"primary", "filelists", "other", "primary_db", "filelists_db",
                             "other_db", "group", "group_gz", "modules", "updateinfo"})
        EXPECT_NE(repomd.find("<data type=\"" + std::string(type) + "\">"), std::string::npos)
            << type << " missing from " << repomd;
    EXPECT_NE(repomd.find("<database_version>10</database_version>"), std::string::npos) << repomd;
    // Every file repomd names is there, named by its checksum; nothing else is.
    std::regex href("<location href=\"repodata/([0-9a-f]{64})-[^\"]+\"/>");
    std::set<std::string> named;
    for (auto it = std::sregex_iterator(repomd.begin(), repomd.end(), href);
         it != std::sregex_iterator(); ++it) {
        std::string file = (*it)[0].str().substr(25);
        file = file.substr(0, file.size() - 3);
        named.insert(file);
        EXPECT_TRUE(fs::exists(repo / "repodata" / file)) << file;
    }
    EXPECT_EQ(named.size(), 10u) << repomd;
    std::size_t files = 0;
    for (const auto& e : fs::directory_iterator(repo / "repodata")) {
        if (e.path().filename() != "repomd.xml") ++files;
    }
    EXPECT_EQ(files, 10u);
    // The primary database has the three packages (python3's sqlite3 reads it).
    std::string db;
    for (const auto& e : fs::directory_iterator(repo / "repodata")) {
        if (e.path().filename().string().ends_with("primary.sqlite.gz")) db = e.path();
    }
    SystemCommandRunner run;
    std::string count = run_checked(
        run,
        {"python3", "-c",
         "import gzip, sqlite3, sys, tempfile\n"
         "f = tempfile.NamedTemporaryFile(suffix='.sqlite')\n"
         "f.write(gzip.open(sys.argv[1]).read()); f.flush()\n"
         "print(sqlite3.connect(f.name).execute('select count(*) from packages').fetchone()[0])\n",
         db});
    EXPECT_EQ(count, "3\n");
}

TEST_F(RepodataWriterTest, MisuseIsAnErrorAndLeavesNoRepodata) {
    {
        RepodataWriter w(repo, 3, false);
        for (const char* n : {"alpha", "beta", "gamma"}) w.reserve(rel(n));
        w.add(rel("alpha"));
        w.add(rel("gamma"));
        EXPECT_EQ(message_of([&] { w.finish({}); }),
                  "repodata: " + rel("beta") + " was never added");
        EXPECT_EQ(message_of([&] { w.reserve(rel("alpha")); }),
                  "repodata: " + rel("alpha") + " was reserved twice");
        put(repo / "Packages/x/not.rpm", "not an rpm");
        w.reserve("Packages/x/not.rpm");
        std::string bad = message_of([&] { w.add("Packages/x/not.rpm"); });
        EXPECT_NE(
            bad.find("repodata: " + (repo / "Packages/x/not.rpm").string() + " is no readable RPM"),
            std::string::npos)
            << bad;
        fs::copy_file(repo / rel("alpha"), repo / "Packages/x/copy.rpm");
        EXPECT_EQ(message_of([&] { w.add("Packages/x/copy.rpm"); }),
                  "repodata: Packages/x/copy.rpm was added unreserved");
        EXPECT_EQ(message_of([&] { w.add("Packages/x/gone.rpm"); }).find("cannot read "), 0u);
    }
    EXPECT_FALSE(fs::exists(repo / "repodata"));
    RepodataWriter w(repo, 2, false);
    for (const char* n : {"alpha", "beta", "gamma"}) w.reserve(rel(n));
    for (const char* n : {"alpha", "beta", "gamma"}) w.add(rel(n));
    EXPECT_EQ(message_of([&] { w.finish({}); }), "repodata: 3 packages for the 2 announced");
}

}  // namespace
