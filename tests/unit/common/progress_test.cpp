#include "common/progress.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <sstream>

namespace airstrap {
namespace {

using namespace std::chrono_literals;

// A clock the test moves by hand.
struct FakeClock {
    std::chrono::steady_clock::time_point now{std::chrono::hours(1000)};
};

ProgressOutput output(std::ostringstream& out, FakeClock& clock, bool tty) {
    ProgressOutput o;
    o.stream = &out;
    o.tty = tty;
    o.clock = [&clock] { return clock.now; };
    return o;
}

TEST(TransferProgress, LogsFirstUpdateThenEveryTenSecondsAndTheEndOnce) {
    std::ostringstream out;
    FakeClock clock;
    auto show = transfer_progress(output(out, clock, false));
    clock.now += 2s;
    show(1, 4, 2 << 20, 8 << 20);  // first update: shown
    clock.now += 1s;
    show(2, 4, 4 << 20, 8 << 20);  // too soon
    clock.now += 10s;
    show(3, 4, 6 << 20, 8 << 20);
    show(4, 4, 8 << 20, 8 << 20);  // the end: always
    show(4, 4, 8 << 20, 8 << 20);  // but once
    EXPECT_EQ(out.str(),
              "airstrap: fetched 1/4 packages, 2.0/8.0 MiB, 1.0 MiB/s, ETA 0:06\n"
              "airstrap: fetched 3/4 packages, 6.0/8.0 MiB, 0.5 MiB/s, ETA 0:04\n"
              "airstrap: fetched 4/4 packages, 8.0/8.0 MiB, 0.6 MiB/s\n");
}

TEST(TransferProgress, RedrawsOneLineOnATerminal) {
    std::ostringstream out;
    FakeClock clock;
    auto show = transfer_progress(output(out, clock, true));
    clock.now += 1s;
    show(0, 2, 0, 100);
    clock.now += 50ms;
    show(1, 2, 50, 100);  // within 100 ms: skipped
    clock.now += 100ms;
    show(2, 2, 100, 100);
    EXPECT_EQ(out.str(),
              "\r\033[Kfetched 0/2 packages, 0.0/0.0 MiB, 0.0 MiB/s"
              "\r\033[Kfetched 2/2 packages, 0.0/0.0 MiB, 0.0 MiB/s\n");
}

TEST(CopyProgress, LogsEveryTenSecondsButNotTheEnd) {
    std::ostringstream out;
    FakeClock clock;
    auto show = copy_progress("copying the vendor DVD", output(out, clock, false));
    show(1 << 20, 10 << 20);  // too soon after the start
    clock.now += 10s;
    show(5 << 20, 10 << 20);
    show(10 << 20, 10 << 20);  // the end closes a terminal's line only
    EXPECT_EQ(out.str(), "airstrap: copying the vendor DVD: 5/10 MiB\n");
}

TEST(CopyProgress, RedrawsOnATerminalAndEndsTheLine) {
    std::ostringstream out;
    FakeClock clock;
    auto show = copy_progress("copying", output(out, clock, true));
    clock.now += 250ms;
    show(3 << 20, 10 << 20);
    clock.now += 100ms;
    show(4 << 20, 10 << 20);  // within 200 ms: skipped
    show(10 << 20, 10 << 20);
    EXPECT_EQ(out.str(), "\r\033[Kcopying: 3/10 MiB\r\033[Kcopying: 10/10 MiB\n");
}

}  // namespace
}  // namespace airstrap
