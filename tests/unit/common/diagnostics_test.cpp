#include "common/diagnostics.hpp"

#include <gtest/gtest.h>

#include <string>

namespace airstrap {
namespace {

TEST(SourceFileLine, ReturnsNumberedLinesWithoutTheirEnd) {
    SourceFile f{"site.yaml", "first\r\nsecond\nthird"};
    EXPECT_EQ(f.line(1), "first");
    EXPECT_EQ(f.line(2), "second");
    EXPECT_EQ(f.line(3), "third");
    EXPECT_EQ(f.line(4), "");
    EXPECT_EQ(f.line(0), "");
    EXPECT_EQ(f.line(-1), "");
}

TEST(Diagnostics, StartsEmpty) {
    SourceFile f{"site.yaml", "a: 1\n"};
    Diagnostics d(f);
    EXPECT_EQ(d.error_count(), 0u);
    EXPECT_FALSE(d.has_errors());
    EXPECT_TRUE(d.all().empty());
    EXPECT_EQ(d.render(), "");
    EXPECT_EQ(&d.source(), &f);
}

TEST(Diagnostics, RendersOneErrorWithLineAndCaret) {
    SourceFile f{"site.yaml", "site:\n  name: lab 1\n"};
    Diagnostics d(f);
    d.error({2, 9}, "a site name has no spaces");
    EXPECT_EQ(d.render(),
              "site.yaml:2:9: error: a site name has no spaces\n"
              "      name: lab 1\n"
              "            ^\n");
    EXPECT_EQ(d.error_count(), 1u);
    EXPECT_TRUE(d.has_errors());
}

TEST(Diagnostics, CaretAtColumnOneHasNoPadding) {
    SourceFile f{"x.yaml", "bogus: 1\n"};
    Diagnostics d(f);
    d.error({1, 1}, "unknown key");
    EXPECT_EQ(d.render(),
              "x.yaml:1:1: error: unknown key\n"
              "    bogus: 1\n"
              "    ^\n");
}

TEST(Diagnostics, SortedByLineThenColumn) {
    SourceFile f{"site.yaml", "aaa: 1\nbbb: 2\nccc: 3\n"};
    Diagnostics d(f);
    d.error({3, 1}, "third");
    d.error({1, 6}, "second");
    d.warning({1, 2}, "first");
    d.error({2, 1}, "middle");
    EXPECT_EQ(d.render(),
              "site.yaml:1:2: warning: first\n"
              "    aaa: 1\n"
              "     ^\n"
              "site.yaml:1:6: error: second\n"
              "    aaa: 1\n"
              "         ^\n"
              "site.yaml:2:1: error: middle\n"
              "    bbb: 2\n"
              "    ^\n"
              "site.yaml:3:1: error: third\n"
              "    ccc: 3\n"
              "    ^\n");
    // all() keeps the order in which they were reported.
    ASSERT_EQ(d.all().size(), 4u);
    EXPECT_EQ(d.all()[0].message, "third");
    EXPECT_EQ(d.all()[3].message, "middle");
}

TEST(Diagnostics, SameLocationKeepsReportOrder) {
    SourceFile f{"s.yaml", "k: v\n"};
    Diagnostics d(f);
    d.error({1, 4}, "one");
    d.error({1, 4}, "two");
    d.error({1, 4}, "three");
    std::string out = d.render();
    auto one = out.find("error: one");
    auto two = out.find("error: two");
    auto three = out.find("error: three");
    ASSERT_NE(one, std::string::npos);
    ASSERT_NE(two, std::string::npos);
    ASSERT_NE(three, std::string::npos);
    EXPECT_LT(one, two);
    EXPECT_LT(two, three);
}

TEST(Diagnostics, WarningsAreNotErrors) {
    SourceFile f{"secrets.yaml", "root: x\n"};
    Diagnostics d(f);
    d.warning({1, 7}, "weak password");
    EXPECT_EQ(d.error_count(), 0u);
    EXPECT_FALSE(d.has_errors());
    ASSERT_EQ(d.all().size(), 1u);
    EXPECT_EQ(d.all()[0].severity, Severity::warning);
    EXPECT_EQ(d.all()[0].where.line, 1);
    EXPECT_EQ(d.all()[0].where.column, 7);
    EXPECT_EQ(d.render(),
              "secrets.yaml:1:7: warning: weak password\n"
              "    root: x\n"
              "          ^\n");
}

TEST(Diagnostics, WholeFileDiagnosticQuotesNoLine) {
    SourceFile f{"site.yaml", "first line\nsecond\n"};
    Diagnostics d(f);
    d.error({}, "the file is empty of meaning");
    d.warning({0, 0}, "whole-file warning");
    EXPECT_EQ(d.render(),
              "site.yaml: error: the file is empty of meaning\n"
              "site.yaml: warning: whole-file warning\n");
}

TEST(Diagnostics, WholeFileDiagnosticsComeFirst) {
    SourceFile f{"site.yaml", "a: 1\n"};
    Diagnostics d(f);
    d.error({1, 1}, "line one");
    d.error({}, "whole file");
    EXPECT_EQ(d.render(),
              "site.yaml: error: whole file\n"
              "site.yaml:1:1: error: line one\n"
              "    a: 1\n"
              "    ^\n");
}

TEST(Diagnostics, LinePastTheEndIsNotQuoted) {
    SourceFile f{"site.yaml", "a: 1\n"};
    Diagnostics d(f);
    d.error({7, 1}, "somewhere");
    EXPECT_EQ(d.render(), "site.yaml:7:1: error: somewhere\n");
}

TEST(Diagnostics, CrlfLineIsQuotedWithoutCarriageReturn) {
    SourceFile f{"site.yaml", "a: 1\r\nb: 2\r\n"};
    Diagnostics d(f);
    d.error({2, 4}, "bad");
    EXPECT_EQ(d.render(),
              "site.yaml:2:4: error: bad\n"
              "    b: 2\n"
              "       ^\n");
}

TEST(Diagnostics, QuoteLinesFalseNeverEchoesTheLine) {
    SourceFile f{"secrets.yaml", "site_secret: 00\npasswords:\n  root: Hunter2-TopSecret\n", false};
    Diagnostics d(f);
    d.error({3, 9}, "passwords.root must be printable ASCII");
    d.warning({3, 9}, "passwords.root is weak");
    d.error({1, 14}, "site_secret must be 64 hex digits");
    std::string out = d.render();
    EXPECT_EQ(out,
              "secrets.yaml:1:14: error: site_secret must be 64 hex digits\n"
              "secrets.yaml:3:9: error: passwords.root must be printable ASCII\n"
              "secrets.yaml:3:9: warning: passwords.root is weak\n");
    EXPECT_EQ(out.find("Hunter2"), std::string::npos);
    EXPECT_EQ(out.find("TopSecret"), std::string::npos);
    EXPECT_EQ(out.find('^'), std::string::npos);
}

TEST(Diagnostics, CaretKeepsTabsSoItLinesUp) {
    SourceFile f{"site.yaml", "\tkey: value\n"};
    Diagnostics d(f);
    d.error({1, 7}, "bad value");  // 'v': tab(1) k(2) e(3) y(4) :(5) space(6) v(7)
    EXPECT_EQ(d.render(),
              "site.yaml:1:7: error: bad value\n"
              "    \tkey: value\n"
              "    \t     ^\n");
}

TEST(Diagnostics, CaretCountsCodePointsNotBytes) {
    // "né€😀: x": n(1) é(2) €(3) 😀(4) :(5) space(6) x(7); the line is 13 bytes up to 'x'.
    std::string line = "n\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80: x";
    SourceFile f{"site.yaml", line + "\n"};
    Diagnostics d(f);
    d.error({1, 7}, "here");
    EXPECT_EQ(d.render(), "site.yaml:1:7: error: here\n    " + line + "\n" + "    " +
                              std::string(6, ' ') + "^\n");
}

TEST(Diagnostics, CaretPastTheEndOfTheLineGoesJustAfterIt) {
    SourceFile f{"site.yaml", "ab\n"};
    Diagnostics d(f);
    d.error({1, 3}, "missing value");
    EXPECT_EQ(d.render(),
              "site.yaml:1:3: error: missing value\n"
              "    ab\n"
              "      ^\n");
}

TEST(Diagnostics, KeepsAtMostMaxKeptAndCountsTheRest) {
    SourceFile f{"big.yaml", "x\n"};
    Diagnostics d(f);
    const std::size_t extra = 7;
    for (std::size_t i = 0; i < Diagnostics::max_kept + extra; ++i) {
        d.error({}, "problem " + std::to_string(i));
    }
    EXPECT_EQ(d.all().size(), Diagnostics::max_kept);
    EXPECT_EQ(d.error_count(), Diagnostics::max_kept + extra);
    EXPECT_EQ(d.all().back().message, "problem " + std::to_string(Diagnostics::max_kept - 1));
    std::string out = d.render();
    const std::string tail =
        "big.yaml: 7 more problems not shown; fix the ones above and run again\n";
    ASSERT_GE(out.size(), tail.size());
    EXPECT_EQ(out.substr(out.size() - tail.size()), tail);
    EXPECT_EQ(out.find("problem " + std::to_string(Diagnostics::max_kept)), std::string::npos);
}

TEST(Diagnostics, DroppedWarningsAreCountedButNotErrors) {
    SourceFile f{"big.yaml", "x\n"};
    Diagnostics d(f);
    for (std::size_t i = 0; i < Diagnostics::max_kept; ++i) d.warning({}, "w");
    d.warning({}, "w");
    d.warning({}, "w");
    EXPECT_EQ(d.all().size(), Diagnostics::max_kept);
    EXPECT_EQ(d.error_count(), 0u);
    EXPECT_FALSE(d.has_errors());
    std::string out = d.render();
    EXPECT_NE(out.find("big.yaml: 2 more problems not shown"), std::string::npos);
}

TEST(Diagnostics, NoCapMessageAtExactlyMaxKept) {
    SourceFile f{"big.yaml", "x\n"};
    Diagnostics d(f);
    for (std::size_t i = 0; i < Diagnostics::max_kept; ++i) d.error({}, "e");
    EXPECT_EQ(d.all().size(), Diagnostics::max_kept);
    EXPECT_EQ(d.render().find("more problems"), std::string::npos);
}

}  // namespace
}  // namespace airstrap
