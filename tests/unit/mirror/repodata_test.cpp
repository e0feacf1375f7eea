// repomd.xml parsing and metadata verification: checksums first, decompression capped,
// hostile XML and hrefs refused.
#include "repo-mirror/repodata.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/checksum.hpp"
#include "common/error.hpp"
#include "common/subprocess.hpp"

namespace fs = std::filesystem;
using namespace airstrap;
using namespace airstrap::mirror;

namespace {

std::string repomd(const std::string& data) {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
           "<repomd xmlns=\"http://linux.duke.edu/metadata/repo\"><revision>42</revision>" +
           data + "</repomd>\n";
}

std::string primary_record(const std::string& href,
                           const std::string& checksum = std::string(64, 'a'),
                           const std::string& type = "sha256") {
    return "<data type=\"primary\"><checksum type=\"" + type + "\">" + checksum +
           "</checksum><location href=\"" + href + "\"/><size>10</size></data>";
}

std::string error_of(const std::string& xml, MetadataPolicy policy = {}) {
    try {
        parse_repomd(xml, "repo: repodata/repomd.xml", policy);
    } catch (const InputError& e) {
        return e.what();
    }
    return "accepted";
}

TEST(ParseRepomd, ReadsRecords) {
    auto md = parse_repomd(
        repomd(primary_record("repodata/p.xml.gz") +
               "<data type=\"filelists\"><checksum type=\"sha512\">" + std::string(128, 'b') +
               "</checksum><open-checksum type=\"sha256\">" + std::string(64, 'c') +
               "</open-checksum><location href=\"repodata/f.xml.zst\"/><size>5</size>"
               "<open-size>50</open-size></data>"),
        "r", {});
    EXPECT_EQ(md.revision, "42");
    ASSERT_EQ(md.records.size(), 2u);
    const RepoMdRecord* f = md.find("filelists");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->checksum_type, ChecksumType::sha512);
    EXPECT_EQ(*f->open_size, 50u);
    EXPECT_EQ(f->href, "repodata/f.xml.zst");
}

TEST(ParseRepomd, RefusesTraversalAndAbsoluteHrefs) {
    EXPECT_EQ(error_of(repomd(primary_record("../../etc/passwd"))),
              "repo: repodata/repomd.xml: <data type=\"primary\">: unsafe location href "
              "'../../etc/passwd'");
    EXPECT_NE(error_of(repomd(primary_record("/etc/passwd"))).find("unsafe location href"),
              std::string::npos);
}

TEST(ParseRepomd, RefusesXmlBase) {
    std::string rec = "<data type=\"primary\"><checksum type=\"sha256\">" + std::string(64, 'a') +
                      "</checksum><location xml:base=\"http://elsewhere/\" href=\"p.xml\"/></data>";
    EXPECT_NE(error_of(repomd(rec)).find("xml:base is not supported"), std::string::npos);
}

TEST(ParseRepomd, MissingChecksumIsAnError) {
    EXPECT_NE(error_of(repomd("<data type=\"primary\"><location href=\"p.xml\"/></data>"))
                  .find("no checksum; every metadata file must have one"),
              std::string::npos);
}

TEST(ParseRepomd, WeakChecksumsOnlyWhenAllowed) {
    std::string xml = repomd(primary_record("p.xml", std::string(40, 'a'), "sha1"));
    EXPECT_NE(error_of(xml).find("checksum type sha1 is too weak"), std::string::npos);
    MetadataPolicy weak;
    weak.allow_weak_checksums = true;
    EXPECT_EQ(error_of(xml, weak), "accepted");
}

TEST(ParseRepomd, XmlBombAndExternalEntitiesAreRefused) {
    std::string bomb =
        "<?xml version=\"1.0\"?><!DOCTYPE repomd [<!ENTITY a \"aaaaaaaaaa\">"
        "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c "
        "\"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">"
        "<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">]><repomd><revision>&d;</revision>" +
        primary_record("p.xml") + "</repomd>";
    EXPECT_NE(error_of(bomb).find("a DOCTYPE is not allowed"), std::string::npos) << error_of(bomb);
    std::string xxe =
        "<?xml version=\"1.0\"?><!DOCTYPE repomd [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
        "<repomd><revision>&x;</revision>" +
        primary_record("p.xml") + "</repomd>";
    EXPECT_NE(error_of(xxe).find("a DOCTYPE is not allowed"), std::string::npos);
}

TEST(ParseRepomd, NotXmlOrWrongRoot) {
    EXPECT_NE(error_of("<repomd><data").find("not valid XML"), std::string::npos);
    EXPECT_NE(error_of("<metadata/>").find("the root element is not <repomd>"), std::string::npos);
    EXPECT_NE(error_of(repomd("")).find("lists no primary metadata"), std::string::npos);
}

class Compressed : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "airstrap-md-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir = pattern;
    }
    void TearDown() override { fs::remove_all(dir); }

    // `text` compressed with the given tool ("gzip", "xz", "bzip2", "zstd", or "" for none).
    std::string compress(const std::string& tool, const std::string& text) {
        fs::path f = dir / "data";
        std::ofstream(f, std::ios::binary) << text;
        if (tool.empty()) return text;
        SystemCommandRunner run;
        run_checked(run, {tool, "-k", "-f", "-q", f.string()});
        std::string ext = tool == "gzip"    ? ".gz"
                          : tool == "xz"    ? ".xz"
                          : tool == "bzip2" ? ".bz2"
                                            : ".zst";
        std::ifstream in(f.string() + ext, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }

    RepoMdRecord record_for(const std::string& raw, const std::string& open) {
        RepoMdRecord r;
        r.type = "primary";
        r.href = "repodata/primary.xml";
        r.checksum = checksum_hex(ChecksumType::sha256, raw);
        r.size = raw.size();
        r.open_checksum_type = ChecksumType::sha256;
        r.open_checksum = checksum_hex(ChecksumType::sha256, open);
        r.open_size = open.size();
        return r;
    }

    fs::path dir;
};

TEST_F(Compressed, EveryCompressionOpens) {
    std::string text = "<metadata packages=\"0\"></metadata>\n";
    for (std::string tool : {"", "gzip", "xz", "bzip2", "zstd"}) {
        std::string raw = compress(tool, text);
        EXPECT_EQ(verify_and_open(record_for(raw, text), raw, "w", {}), text) << tool;
    }
}

TEST_F(Compressed, ChecksumMismatchIsCaughtBeforeDecompressing) {
    std::string text = "<metadata/>";
    std::string raw = compress("gzip", text);
    RepoMdRecord r = record_for(raw, text);
    r.checksum = std::string(64, '0');
    try {
        verify_and_open(r, raw, "repo: repodata/primary.xml.gz", {});
        FAIL();
    } catch (const InputError& e) {
        EXPECT_EQ(std::string(e.what()).find(
                      "repo: repodata/primary.xml.gz: checksum mismatch (sha256 expected 0000"),
                  0u)
            << e.what();
    }
}

TEST_F(Compressed, TruncatedGzipIsAnError) {
    std::string text(100000, 'x');
    for (int i = 0; i < 100000; i += 7)
        text[static_cast<std::size_t>(i)] = static_cast<char>('a' + i % 26);
    std::string raw = compress("gzip", text).substr(0, 300);
    RepoMdRecord r = record_for(raw, text);
    try {
        verify_and_open(r, raw, "w", {});
        FAIL() << "a truncated gzip was accepted";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("w: "), std::string::npos) << e.what();
    }
}

TEST_F(Compressed, DecompressionBombStopsAtOpenSize) {
    std::string text(64 << 20, '\0');  // 64 MiB of zeros: ~64 KiB gzipped
    std::string raw = compress("gzip", text);
    RepoMdRecord r = record_for(raw, text);
    r.open_size = 1 << 20;  // repomd says 1 MiB
    r.open_checksum_type.reset();
    try {
        verify_and_open(r, raw, "w", {});
        FAIL();
    } catch (const InputError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "w: decompresses to more than 1048576 bytes (repomd.xml's open-size)");
    }
    MetadataPolicy small;
    small.max_open_bytes = 4 << 20;
    r.open_size.reset();
    EXPECT_THROW(verify_and_open(r, raw, "w", small), InputError);
}

// Found by tests/fuzz/repodata_fuzz: a gzip header cut short left libarchive without an
// error string, and a NULL was appended to the message.
TEST_F(Compressed, TruncatedGzipHeaderIsAnErrorNotACrash) {
    const std::string raw("\x1f\x8b\x08\x00\x01\x7d\x94\xb6\xd3\x23\x13\x00\x00", 13);
    RepoMdRecord r;
    r.checksum = checksum_hex(ChecksumType::sha256, raw);
    EXPECT_THROW(verify_and_open(r, raw, "w", {}), InputError);
}

TEST_F(Compressed, SizeMismatchIsAnError) {
    std::string raw = compress("", "<metadata/>");
    RepoMdRecord r = record_for(raw, raw);
    r.size = 3;
    EXPECT_THROW(verify_and_open(r, raw, "w", {}), InputError);
}

}  // namespace
