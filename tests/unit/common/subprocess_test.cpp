// Running programs: output, exit codes, input on a pipe or typed at a terminal's prompts,
// extra environment, output as it comes.
#include "common/subprocess.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/error.hpp"

using namespace airstrap;

TEST(Subprocess, OutputAndExitCode) {
    SystemCommandRunner r;
    ProcessResult p = r.run({"sh", "-c", "echo out; echo err >&2; exit 3"});
    EXPECT_EQ(p.exit_code, 3);
    EXPECT_EQ(p.output, "out\nerr\n");
    EXPECT_THROW(r.run({"/nonexistent/program"}), SystemError);
    EXPECT_EQ(r.run({"sh", "-c", "kill -TERM $$"}).exit_code, 128 + 15);
}

TEST(Subprocess, InputOnAPipeAndEnvironment) {
    SystemCommandRunner r;
    RunOptions o;
    o.input = "line one\nline two\n";
    o.environment = {{"AIRSTRAP_TEST_VALUE", "a b=c"}, {"HOME", "/nowhere"}};
    ProcessResult p = r.run({"sh", "-c", "wc -l; echo \"$AIRSTRAP_TEST_VALUE|$HOME\""}, o);
    EXPECT_EQ(p.exit_code, 0);
    EXPECT_EQ(p.output, "2\na b=c|/nowhere\n");
    // Without input, standard input is empty (not ours).
    EXPECT_EQ(r.run({"sh", "-c", "cat; echo end"}).output, "end\n");
}

TEST(Subprocess, OutputArrivesAsItComes) {
    SystemCommandRunner r;
    RunOptions o;
    std::string seen;
    int chunks = 0;
    o.on_output = [&](std::string_view s) {
        seen += s;
        ++chunks;
    };
    ProcessResult p = r.run({"sh", "-c", "echo one; sleep 0.2; echo two"}, o);
    EXPECT_EQ(p.output, "one\ntwo\n");
    EXPECT_EQ(seen, p.output);
    EXPECT_GE(chunks, 2);
}

TEST(Subprocess, PasswordsAreTypedAtTheTerminalsPrompts) {
    SystemCommandRunner r;
    RunOptions o;
    o.input = "first\nsecond\n";
    o.input_is_terminal = true;
    // Like getpass: a prompt on the terminal, echo off, one line read from it, twice.
    const char* script =
        "[ -t 0 ] || { echo 'no terminal'; exit 9; }; stty -echo; "
        "printf 'Password:' >/dev/tty; read a </dev/tty; "
        "printf 'Repeat Password:' >/dev/tty; read b </dev/tty; "
        "echo \"got ${#a} and ${#b} characters\"";
    ProcessResult p = r.run({"sh", "-c", script}, o);
    EXPECT_EQ(p.exit_code, 0) << p.output;
    EXPECT_EQ(p.output, "got 5 and 6 characters\n");
    EXPECT_EQ(p.output.find("first"), std::string::npos);
}

TEST(Subprocess, RecordingRunnersRefuseInput) {
    struct Recorder : CommandRunner {
        ProcessResult run(const std::vector<std::string>&) override { return {0, "x"}; }
        using CommandRunner::run;
    } rec;
    RunOptions o;
    std::string seen;
    o.on_output = [&](std::string_view s) { seen += s; };
    EXPECT_EQ(rec.run({"a"}, o).output, "x");
    EXPECT_EQ(seen, "x");
    o.input = "pw";
    EXPECT_THROW(rec.run({"a"}, o), Error);
}

TEST(Subprocess, CommandsGetTheChildUmaskAndOursStays) {
    mode_t before = ::umask(077);
    SystemCommandRunner runner;
    set_child_umask(022);
    auto r = runner.run({"sh", "-c", "umask"});
    mode_t ours = ::umask(before);
    EXPECT_EQ(r.output, "0022\n");
    EXPECT_EQ(ours, 077u);
}
