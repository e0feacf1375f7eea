// A libguestfs handle, owned: every call checked, errors carry libguestfs's own message and
// what was being done. Movable, not copyable; one per `build qcow2` run (one appliance
// launch).
#pragma once

#include <guestfs.h>

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "common/text.hpp"

namespace airstrap::builder {

class Guest {
  public:
    Guest() : g_(guestfs_create()) {
        if (!g_) throw Error("cannot create a libguestfs handle (is libguestfs installed?)");
        guestfs_set_error_handler(g_, nullptr, nullptr);
    }
    ~Guest() {
        if (g_) guestfs_close(g_);
    }
    Guest(Guest&& other) noexcept : g_(std::exchange(other.g_, nullptr)) {}
    Guest& operator=(Guest&& other) noexcept {
        if (this != &other) {
            if (g_) guestfs_close(g_);
            g_ = std::exchange(other.g_, nullptr);
        }
        return *this;
    }
    Guest(const Guest&) = delete;
    Guest& operator=(const Guest&) = delete;
    guestfs_h* h() { return g_; }

    void check(int rc, const std::string& what) {
        if (rc == -1) fail(what);
    }
    std::string take(char* s, const std::string& what) {
        if (!s) fail(what);
        std::string out(s);
        std::free(s);
        return out;
    }
    std::vector<std::string> take(char** list, const std::string& what) {
        if (!list) fail(what);
        std::vector<std::string> out;
        for (char** p = list; *p; ++p) {
            out.emplace_back(*p);
            std::free(*p);
        }
        std::free(list);
        return out;
    }
    [[noreturn]] void fail(const std::string& what) {
        const char* e = guestfs_last_error(g_);
        throw Error(what + ": " + (e ? e : "libguestfs failed"));
    }

    // Runs argv chrooted in the image (libguestfs binds /dev, /proc and /sys in).
    std::string command(const std::vector<std::string>& argv) {
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        return take(guestfs_command(g_, args.data()),
                    "'" + text::join(argv, " ") + "' in the image");
    }

  private:
    guestfs_h* g_;
};

}  // namespace airstrap::builder
