// The daemon's log: a peer's text never makes more than one line, nor a terminal sequence.
#include "firstboot/log.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "common/file_io.hpp"

namespace airstrap::firstboot {
namespace {

TEST(LogEscape, ControlCharactersAreShownNotActedOn) {
    EXPECT_EQ(escape_for_log("plain text, é and → stay"), "plain text, é and → stay");
    EXPECT_EQ(escape_for_log("a\nb\rc\td"), "a\\nb\\rc\\td");
    EXPECT_EQ(escape_for_log("\x1b[31mred"), "\\x1b[31mred");
    EXPECT_EQ(escape_for_log(std::string("nul\0bel\x07"
                                         "del\x7f",
                                         12)),
              "nul\\x00bel\\x07del\\x7f");
    // C1 controls in UTF-8 (CSI is 0xC2 0x9B), but not the letters after them (0xC2 0xA0…).
    EXPECT_EQ(escape_for_log("\xc2\x9b"
                             "2J \xc2\xa0"),
              "\\xc2\\x9b2J \xc2\xa0");
    // A literal backslash is doubled, so a peer's "\x0a" text cannot pass for an escape.
    EXPECT_EQ(escape_for_log("\\x0a"), "\\\\x0a");
}

TEST(LogEscape, APeersNewlineCannotForgeALine) {
    auto dir = std::filesystem::temp_directory_path() /
               ("airstrap-log-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    {
        Log log(dir / "firstboot.log", "controller");
        log.warn("beacon of type 'x\n2026-01-01T00:00:00.000Z controller: compute1 enrolled'");
        log.info("second\r\n");
    }
    std::string text = read_file(dir / "firstboot.log", 1 << 20);
    std::filesystem::remove_all(dir);
    ASSERT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;
    auto first = text.substr(0, text.find('\n'));
    EXPECT_NE(first.find("controller: warning: beacon of type 'x\\n2026-01-01T00:00:00.000Z "
                         "controller: compute1 enrolled'"),
              std::string::npos)
        << first;
    EXPECT_NE(text.find("controller: second\\r\\n\n"), std::string::npos) << text;
    EXPECT_EQ(text.find('\r'), std::string::npos);
}

}  // namespace
}  // namespace airstrap::firstboot
