#include "common/progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <utility>

namespace airstrap {

ProgressOutput ProgressOutput::to_stderr() {
    ProgressOutput out;
    out.stream = &std::cerr;
    out.tty = ::isatty(2) != 0;
    return out;
}

namespace {

using Clock = std::chrono::steady_clock;

// One progress line: throttled, then drawn in place or logged.
class Line {
  public:
    Line(ProgressOutput out, std::chrono::milliseconds tty_every, Clock::time_point last)
        : out_(std::move(out)), tty_every_(tty_every), last_(last) {}

    Clock::time_point now() const { return out_.clock(); }

    // Whether to show an update now; the last one always is.
    bool due(Clock::time_point now, bool last) {
        auto every = out_.tty
                         ? std::chrono::duration_cast<Clock::duration>(tty_every_)
                         : std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(10));
        if (!last && now - last_ < every) return false;
        last_ = now;
        return true;
    }

    void show(const std::string& text, bool last, bool log_last) {
        if (out_.tty) {
            *out_.stream << "\r\033[K" << text << (last ? "\n" : "") << std::flush;
        } else if (!last || log_last) {
            *out_.stream << "airstrap: " << text << "\n";
        }
    }

  private:
    ProgressOutput out_;
    std::chrono::milliseconds tty_every_;
    Clock::time_point last_;
};

}  // namespace

std::function<void(std::size_t, std::size_t, std::uint64_t, std::uint64_t)> transfer_progress(
    ProgressOutput out) {
    auto start = out.clock();
    Line line(std::move(out), std::chrono::milliseconds(100), start - std::chrono::hours(1));
    bool done_shown = false;
    return [=](std::size_t files_done, std::size_t files_total, std::uint64_t bytes_done,
               std::uint64_t bytes_total) mutable {
        auto now = line.now();
        bool done = files_done == files_total;
        if (done && done_shown) return;
        if (!line.due(now, done)) return;
        done_shown = done;
        double secs = std::chrono::duration<double>(now - start).count();
        double rate = secs > 0 ? static_cast<double>(bytes_done) / secs : 0;
        char text[200];
        std::snprintf(text, sizeof text, "fetched %zu/%zu packages, %.1f/%.1f MiB, %.1f MiB/s",
                      files_done, files_total, static_cast<double>(bytes_done) / 1048576.0,
                      static_cast<double>(bytes_total) / 1048576.0, rate / 1048576.0);
        std::string message = text;
        if (rate > 0 && bytes_total > bytes_done && !done) {
            auto eta = static_cast<long>(static_cast<double>(bytes_total - bytes_done) / rate);
            message += ", ETA " + std::to_string(eta / 60) + ":" + (eta % 60 < 10 ? "0" : "") +
                       std::to_string(eta % 60);
        }
        line.show(message, done, true);
    };
}

std::function<void(std::uint64_t, std::uint64_t)> copy_progress(std::string what,
                                                                ProgressOutput out) {
    auto start = out.clock();
    Line line(std::move(out), std::chrono::milliseconds(200), start);
    return [=](std::uint64_t done, std::uint64_t total) mutable {
        bool end = done >= total;
        if (!line.due(line.now(), end)) return;
        line.show(
            what + ": " + std::to_string(done >> 20) + "/" + std::to_string(total >> 20) + " MiB",
            end, false);
    };
}

}  // namespace airstrap
