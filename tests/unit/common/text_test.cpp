#include "common/text.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace airstrap::text {
namespace {

using namespace std::string_literals;

// ---- edit_distance -------------------------------------------------------------------------

TEST(EditDistance, IdenticalStringsAreZeroApart) {
    EXPECT_EQ(edit_distance("", ""), 0u);
    EXPECT_EQ(edit_distance("network", "network"), 0u);
}

TEST(EditDistance, EmptyAgainstWordIsItsLength) {
    EXPECT_EQ(edit_distance("", "abc"), 3u);
    EXPECT_EQ(edit_distance("abcd", ""), 4u);
}

TEST(EditDistance, CountsSingleEdits) {
    EXPECT_EQ(edit_distance("netwrk", "network"), 1u);    // insertion
    EXPECT_EQ(edit_distance("networks", "network"), 1u);  // deletion
    EXPECT_EQ(edit_distance("netwark", "network"), 1u);   // substitution
}

TEST(EditDistance, ClassicExamples) {
    EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
    EXPECT_EQ(edit_distance("flaw", "lawn"), 2u);
}

TEST(EditDistance, SwapOfNeighboursIsOneEdit) {
    EXPECT_EQ(edit_distance("swfit", "swift"), 1u);
    EXPECT_EQ(edit_distance("distro", "distor"), 1u);
    EXPECT_EQ(edit_distance("ab", "ba"), 1u);
    // Two separate swaps are two edits.
    EXPECT_EQ(edit_distance("abcd", "badc"), 2u);
}

TEST(EditDistance, IsSymmetric) {
    EXPECT_EQ(edit_distance("sunday", "saturday"), 3u);
    EXPECT_EQ(edit_distance("saturday", "sunday"), 3u);
}

// ---- closest -------------------------------------------------------------------------------

TEST(Closest, SuggestsTheNearestCandidate) {
    std::vector<std::string> keys{"site", "networks", "nodes", "openstack"};
    EXPECT_EQ(closest("netwroks", keys), std::optional<std::string>("networks"));
    EXPECT_EQ(closest("node", keys), std::optional<std::string>("nodes"));
    EXPECT_EQ(closest("opnstack", keys), std::optional<std::string>("openstack"));
}

TEST(Closest, PicksTheSmallestDistanceNotTheFirstCandidate) {
    std::vector<std::string> keys{"rooted", "root"};
    // "roo" is 1 from "root" and 3 from "rooted".
    EXPECT_EQ(closest("roo", keys), std::optional<std::string>("root"));
}

TEST(Closest, NoSuggestionWhenTooFar) {
    std::vector<std::string> keys{"site", "networks", "nodes", "openstack"};
    EXPECT_EQ(closest("xyz", keys), std::nullopt);
    EXPECT_EQ(closest("timezone", keys), std::nullopt);
}

TEST(Closest, ShortWordsAllowOnlyOneEdit) {
    std::vector<std::string> keys{"xy"};
    EXPECT_EQ(closest("xz", keys), std::optional<std::string>("xy"));  // 1 edit
    EXPECT_EQ(closest("ab", keys), std::nullopt);                      // 2 edits
}

TEST(Closest, LimitIsAThirdOfTheWordCappedAtThree) {
    // 12 letters: a third is 4, capped at 3.
    std::vector<std::string> three{"abcdefghixyz"};
    std::vector<std::string> four{"abcdefghwxyz"};
    EXPECT_EQ(closest("abcdefghijkl", three), std::optional<std::string>("abcdefghixyz"));
    EXPECT_EQ(closest("abcdefghijkl", four), std::nullopt);
    // 6 letters: two edits allowed, three not.
    std::vector<std::string> six{"dbstrp"};
    EXPECT_EQ(edit_distance("distro", "dbstrp"), 2u);
    EXPECT_EQ(closest("distro", six), std::optional<std::string>("dbstrp"));
    std::vector<std::string> six_far{"dbsyrp"};
    EXPECT_EQ(edit_distance("distro", "dbsyrp"), 3u);
    EXPECT_EQ(closest("distro", six_far), std::nullopt);
}

TEST(Closest, SuggestsThroughASwappedPair) {
    std::vector<std::string> services{"swift", "cinder", "nova"};
    EXPECT_EQ(closest("swfit", services), std::optional<std::string>("swift"));
    EXPECT_EQ(closest("cidner", services), std::optional<std::string>("cinder"));
}

TEST(Closest, NoCandidatesNoSuggestion) {
    std::vector<std::string> none;
    EXPECT_EQ(closest("anything", none), std::nullopt);
}

// ---- find_invalid_utf8 ---------------------------------------------------------------------

TEST(FindInvalidUtf8, AsciiAndEmptyAreValid) {
    EXPECT_EQ(find_invalid_utf8(""), std::nullopt);
    EXPECT_EQ(find_invalid_utf8("site: lab\n"), std::nullopt);
    EXPECT_EQ(find_invalid_utf8("a\0b"s), std::nullopt);
}

TEST(FindInvalidUtf8, ValidMultibyteSequences) {
    EXPECT_EQ(find_invalid_utf8("caf\xC3\xA9"), std::nullopt);               // é, 2 bytes
    EXPECT_EQ(find_invalid_utf8("\xE2\x82\xAC"), std::nullopt);              // €, 3 bytes
    EXPECT_EQ(find_invalid_utf8("\xF0\x9F\x98\x80 ok"), std::nullopt);       // 😀, 4 bytes
    EXPECT_EQ(find_invalid_utf8("\xF4\x8F\xBF\xBF"), std::nullopt);          // U+10FFFF
    EXPECT_EQ(find_invalid_utf8("\xED\x9F\xBF\xEE\x80\x80"), std::nullopt);  // U+D7FF, U+E000
}

TEST(FindInvalidUtf8, OverlongEncodingsAreRejected) {
    EXPECT_EQ(find_invalid_utf8("ab\xC0\xAF"), std::optional<std::size_t>(2));  // '/' in 2 bytes
    EXPECT_EQ(find_invalid_utf8("\xC1\xBF"), std::optional<std::size_t>(0));
    EXPECT_EQ(find_invalid_utf8("\xE0\x80\xAF"), std::optional<std::size_t>(0));      // 3 bytes
    EXPECT_EQ(find_invalid_utf8("\xF0\x8F\xBF\xBF"), std::optional<std::size_t>(0));  // 4 bytes
}

TEST(FindInvalidUtf8, SurrogatesAreRejected) {
    EXPECT_EQ(find_invalid_utf8("\xED\xA0\x80"), std::optional<std::size_t>(0));   // U+D800
    EXPECT_EQ(find_invalid_utf8("x\xED\xBF\xBF"), std::optional<std::size_t>(1));  // U+DFFF
}

TEST(FindInvalidUtf8, TruncatedSequencesAreRejected) {
    EXPECT_EQ(find_invalid_utf8("ab\xE2\x82"), std::optional<std::size_t>(2));  // end of input
    EXPECT_EQ(find_invalid_utf8("\xF0\x9F\x98"), std::optional<std::size_t>(0));
    EXPECT_EQ(find_invalid_utf8("\xC3"), std::optional<std::size_t>(0));
    // Cut short by an ASCII byte where a continuation byte belongs.
    EXPECT_EQ(find_invalid_utf8("\xE2\x28\xA1"), std::optional<std::size_t>(0));
}

TEST(FindInvalidUtf8, CodePointsAbove10FFFFAreRejected) {
    EXPECT_EQ(find_invalid_utf8("\xF4\x90\x80\x80"), std::optional<std::size_t>(0));  // 110000
    EXPECT_EQ(find_invalid_utf8("ok\xF7\xBF\xBF\xBF"), std::optional<std::size_t>(2));
    // Five- and six-byte forms are not UTF-8 at all.
    EXPECT_EQ(find_invalid_utf8("\xF8\x88\x80\x80\x80"), std::optional<std::size_t>(0));
    EXPECT_EQ(find_invalid_utf8("\xFC\x84\x80\x80\x80\x80"), std::optional<std::size_t>(0));
}

TEST(FindInvalidUtf8, StrayBytesAreRejected) {
    EXPECT_EQ(find_invalid_utf8("abc\x80"), std::optional<std::size_t>(3));  // lone continuation
    EXPECT_EQ(find_invalid_utf8("\xFF"), std::optional<std::size_t>(0));
    EXPECT_EQ(find_invalid_utf8("\xFE"), std::optional<std::size_t>(0));
}

TEST(FindInvalidUtf8, ReportsTheFirstBadOffsetAfterValidMultibyte) {
    // "é😀" is 6 bytes, then a surrogate, then another error later.
    EXPECT_EQ(find_invalid_utf8("\xC3\xA9\xF0\x9F\x98\x80\xED\xA0\x80\xFF"),
              std::optional<std::size_t>(6));
}

// ---- line_column_at ------------------------------------------------------------------------

TEST(LineColumnAt, StartIsLineOneColumnOne) {
    auto lc = line_column_at("abc", 0);
    EXPECT_EQ(lc.line, 1);
    EXPECT_EQ(lc.column, 1);
}

TEST(LineColumnAt, CountsLinesAndResetsColumn) {
    std::string_view s = "ab\ncd\nef";
    auto lc = line_column_at(s, 4);  // 'd'
    EXPECT_EQ(lc.line, 2);
    EXPECT_EQ(lc.column, 2);
    lc = line_column_at(s, 6);  // 'e'
    EXPECT_EQ(lc.line, 3);
    EXPECT_EQ(lc.column, 1);
}

TEST(LineColumnAt, ColumnsCountCodePointsNotBytes) {
    // "né€😀x": n(1) é(2, 2 bytes) €(3, 3 bytes) 😀(4, 4 bytes) x(5)
    std::string_view s = "n\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80x";
    auto lc = line_column_at(s, 10);  // 'x'
    EXPECT_EQ(lc.line, 1);
    EXPECT_EQ(lc.column, 5);
    lc = line_column_at(s, 3);  // first byte of '€'
    EXPECT_EQ(lc.column, 3);
}

TEST(LineColumnAt, CodePointsCountedOnLaterLines) {
    std::string_view s = "x\n\xC3\xA9\xC3\xA9y";
    auto lc = line_column_at(s, 6);  // 'y'
    EXPECT_EQ(lc.line, 2);
    EXPECT_EQ(lc.column, 3);
}

TEST(LineColumnAt, OffsetPastTheEndStopsAtTheEnd) {
    auto lc = line_column_at("ab\nc", 100);
    EXPECT_EQ(lc.line, 2);
    EXPECT_EQ(lc.column, 2);
}

// ---- split / join --------------------------------------------------------------------------

TEST(Split, SplitsOnEverySeparator) {
    EXPECT_EQ(split("a,b,c", ','), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(Split, KeepsEmptyFields) {
    EXPECT_EQ(split("a,,b", ','), (std::vector<std::string>{"a", "", "b"}));
    EXPECT_EQ(split(",a,", ','), (std::vector<std::string>{"", "a", ""}));
    EXPECT_EQ(split("", ','), (std::vector<std::string>{""}));
}

TEST(Split, NoSeparatorGivesTheWholeString) {
    EXPECT_EQ(split("abc", '.'), (std::vector<std::string>{"abc"}));
}

TEST(Join, JoinsWithTheSeparator) {
    std::vector<std::string> parts{"queens", "rocky", "stein"};
    EXPECT_EQ(join(parts, ", "), "queens, rocky, stein");
}

TEST(Join, EmptyAndSingle) {
    std::vector<std::string> none;
    EXPECT_EQ(join(none, ", "), "");
    std::vector<std::string> one{"x"};
    EXPECT_EQ(join(one, ", "), "x");
    std::vector<std::string> blanks{"", ""};
    EXPECT_EQ(join(blanks, "-"), "-");
}

TEST(SplitJoin, RoundTrip) {
    std::string s = "10.0.0.1";
    EXPECT_EQ(join(split(s, '.'), "."), s);
    std::string t = ":a::b:";
    EXPECT_EQ(join(split(t, ':'), ":"), t);
}

TEST(ToLower, LowersAsciiOnly) {
    EXPECT_EQ(to_lower("00:0C:29:AB"), "00:0c:29:ab");
    EXPECT_EQ(to_lower("\xc3\x84-X"), "\xc3\x84-x");  // UTF-8 bytes untouched
}

}  // namespace
TEST(Trim, DropsSpacesTabsAndLineEndsAtBothEnds) {
    EXPECT_EQ(trim("  compute-node\r\n"), "compute-node");
    EXPECT_EQ(trim("\t a b \t"), "a b");
    EXPECT_EQ(trim(" \n\t"), "");
    EXPECT_EQ(trim(""), "");
}

TEST(ParseInt, WholeDecimalNumbersOnly) {
    EXPECT_EQ(parse_int("24"), 24);
    EXPECT_EQ(parse_int("-3"), -3);
    EXPECT_EQ(parse_int(""), std::nullopt);
    EXPECT_EQ(parse_int("24 "), std::nullopt);
    EXPECT_EQ(parse_int("+24"), std::nullopt);
    EXPECT_EQ(parse_int("0x10"), std::nullopt);
    EXPECT_EQ(parse_int("99999999999999999999"), std::nullopt);
}

}  // namespace airstrap::text
