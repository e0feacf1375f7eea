// Progress for long steps: on a terminal one line redrawn in place, otherwise a plain
// "airstrap: …" line now and then, so that logs stay readable. Plain numbers in, so that
// any component's progress can be shown (the caller adapts its own struct).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

namespace airstrap {

struct ProgressOutput {
    std::ostream* stream = nullptr;
    bool tty = false;  // redraw in place; otherwise log lines
    std::function<std::chrono::steady_clock::time_point()> clock = std::chrono::steady_clock::now;

    // stderr, redrawn when it is a terminal.
    static ProgressOutput to_stderr();
};

// "fetched 3/10 packages, 1.0/5.0 MiB, 0.5 MiB/s, ETA 0:08": redrawn at most every 100 ms,
// logged at most every 10 s; the first update and the last (all files done, once) always.
std::function<void(std::size_t files_done, std::size_t files_total, std::uint64_t bytes_done,
                   std::uint64_t bytes_total)>
transfer_progress(ProgressOutput out = ProgressOutput::to_stderr());

// "WHAT: 1234/4400 MiB": redrawn at most every 200 ms, logged at most every 10 s (the end
// only on a terminal, where it closes the line).
std::function<void(std::uint64_t done, std::uint64_t total)> copy_progress(
    std::string what, ProgressOutput out = ProgressOutput::to_stderr());

}  // namespace airstrap
