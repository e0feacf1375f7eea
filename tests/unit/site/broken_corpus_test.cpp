// Every file in tests/data/broken/ is a site file with something wrong. Each must give
// exactly the messages in its .expected file (file:line:col, the line, a caret) and count
// as an error. Regenerate after a deliberate message change with
// AIRSTRAP_UPDATE_EXPECTED=1 build/tests/unit/site_test, then review the diff.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.hpp"
#include "site/parse.hpp"
#include "site/site_file.hpp"

namespace fs = std::filesystem;
using airstrap::site::SiteFile;

namespace {

const fs::path corpus_dir = fs::path(AIRSTRAP_TEST_DATA) / "broken";

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<std::string> corpus_files() {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(corpus_dir)) {
        if (e.path().extension() == ".yaml") names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

class BrokenSite : public ::testing::TestWithParam<std::string> {};

TEST_P(BrokenSite, GivesExactlyTheExpectedMessages) {
    const std::string name = GetParam();
    auto file = SiteFile::from_text(name, slurp(corpus_dir / name), corpus_dir);
    std::string rendered = file->diag().render();
    EXPECT_TRUE(file->diag().has_errors()) << name << " was accepted:\n" << rendered;
    fs::path expected = corpus_dir / (fs::path(name).stem().string() + ".expected");
    if (std::getenv("AIRSTRAP_UPDATE_EXPECTED")) {
        std::ofstream(expected, std::ios::binary) << rendered;
        GTEST_SKIP() << "skipped: rewrote " << expected;
    }
    ASSERT_TRUE(fs::exists(expected)) << "no " << expected;
    EXPECT_EQ(slurp(expected), rendered);
}

INSTANTIATE_TEST_SUITE_P(Corpus, BrokenSite, ::testing::ValuesIn(corpus_files()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                             std::string id = fs::path(param.param).stem().string();
                             std::replace(id.begin(), id.end(), '-', '_');
                             return id;
                         });

TEST(BrokenCorpus, HasAtLeastThirtyFiles) {
    EXPECT_GE(corpus_files().size(), 30u);
}

// The cases below are made here rather than stored, because they are binary or large.

std::string lab3() {
    return slurp(fs::path(AIRSTRAP_SOURCE_DIR) / "examples/lab3/site.yaml");
}

TEST(BrokenGenerated, NonUtf8ByteIsReportedWhereItIs) {
    std::string text = lab3();
    std::size_t at = text.find("name: lab3");
    text.replace(at + 6, 4,
                 "l\xff"
                 "b3");
    auto file = SiteFile::from_text("site.yaml", text, ".");
    ASSERT_TRUE(file->diag().has_errors());
    std::string rendered = file->diag().render();
    EXPECT_NE(rendered.find("byte 0xff is not UTF-8; save the site file as UTF-8"),
              std::string::npos)
        << rendered;
    EXPECT_NE(rendered.find("site.yaml:8:10: error:"), std::string::npos) << rendered;
}

TEST(BrokenGenerated, Latin1FileIsRejected) {
    auto file = SiteFile::from_text("site.yaml", "site:\n  name: caf\xe9\n", ".");
    EXPECT_EQ(file->diag().render(),
              "site.yaml:2:12: error: byte 0xe9 is not UTF-8; save the site file as UTF-8\n"
              "      name: caf\xe9\n"
              "               ^\n");
}

TEST(BrokenGenerated, NulByteIsRejected) {
    auto file = SiteFile::from_text("site.yaml", std::string("site:\n  name: a\0b\n", 16), ".");
    ASSERT_EQ(file->diag().all().size(), 1u);
    EXPECT_EQ(file->diag().all()[0].message, "NUL byte in a text file; is this the right file?");
}

TEST(BrokenGenerated, FiftyMegabyteFileIsRefusedBeforeParsing) {
    fs::path dir = fs::temp_directory_path() / ("airstrap-big-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    fs::path big = dir / "site.yaml";
    {
        std::ofstream out(big, std::ios::binary);
        std::string line(1023, '#');
        line += '\n';
        for (int i = 0; i < 50 * 1024; ++i) out << line;
    }
    auto start = std::chrono::steady_clock::now();
    try {
        SiteFile::load(big);
        ADD_FAILURE() << "a 50 MB site file was read";
    } catch (const airstrap::InputError& e) {
        EXPECT_EQ(std::string(e.what()),
                  big.string() + ": file is larger than 1024 KiB; is this the right file?");
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
    fs::remove_all(dir);
}

TEST(BrokenGenerated, AliasBombCostsNothing) {
    // "Billion laughs": nine levels of nine aliases. The schema never walks into unknown
    // structure, so this is one unknown key, found at once.
    std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n";
    for (int i = 1; i < 9; ++i) {
        std::string prev = "*a" + std::to_string(i - 1);
        text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + prev;
        for (int k = 1; k < 9; ++k) text += ", " + prev;
        text += "]\n";
    }
    auto start = std::chrono::steady_clock::now();
    auto file = SiteFile::from_text("bomb.yaml", text, ".");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
    EXPECT_TRUE(file->diag().has_errors());
}

TEST(BrokenGenerated, ThousandsOfErrorsAreCappedWithASummary) {
    std::string text = "site: {name: a, domain: b.c, distro: el7}\n";
    for (int i = 0; i < 500; ++i) text += "unknown" + std::to_string(i) + ": 1\n";
    auto file = SiteFile::from_text("site.yaml", text, ".");
    std::string rendered = file->diag().render();
    EXPECT_NE(rendered.find("more problems not shown; fix the ones above and run again"),
              std::string::npos);
    EXPECT_GT(file->diag().error_count(), 500u);
}

}  // namespace
