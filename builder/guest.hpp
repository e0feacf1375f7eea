// A libguestfs handle, owned: every call checked, errors carry libguestfs's own message and
// what was being done. Movable, not copyable; one per `build qcow2` run (one appliance
// launch).
#pragma once

#include <guestfs.h>

#include <cstdlib>
#include <filesystem>
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
    void write(const std::string& path, const std::string& content, unsigned mode) {
        std::string parent = std::filesystem::path(path).parent_path().string();
        check(guestfs_mkdir_p(g_, parent.c_str()), "mkdir " + parent);
        check(guestfs_write(g_, path.c_str(), content.data(), content.size()), "write " + path);
        check(guestfs_chmod(g_, static_cast<int>(mode), path.c_str()), "chmod " + path);
    }
    bool exists(const std::string& path) { return guestfs_exists(g_, path.c_str()) == 1; }
    bool is_dir(const std::string& path) { return guestfs_is_dir(g_, path.c_str()) == 1; }
    std::string read(const std::string& path) {
        std::size_t size = 0;
        char* data = guestfs_read_file(g_, path.c_str(), &size);
        if (!data) fail("read " + path);
        std::string out(data, size);
        std::free(data);
        return out;
    }

  private:
    guestfs_h* g_;
};

}  // namespace airstrap::builder
