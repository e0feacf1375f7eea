// Small helpers the unit tests share: files, error texts, the example site, fixed secrets.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "common/error.hpp"
#include "site/secrets.hpp"
#include "site/site_file.hpp"

namespace airstrap::testutil {

inline std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Writes `text` to `p`, making its folders.
inline void put(const std::filesystem::path& p, const std::string& text) {
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

// What `fn` throws as `airstrap` prints it ("context: cause", the nested chain), or
// "(no error)".
inline std::string message_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const std::exception& e) {
        return describe(e);
    }
    return "(no error)";
}

// examples/lab3/site.yaml as it is in the tree.
inline std::filesystem::path lab3_path() {
    return std::filesystem::path(AIRSTRAP_SOURCE_DIR) / "examples/lab3/site.yaml";
}
inline std::string lab3_text() {
    return slurp(lab3_path());
}

// A site file parsed from `text` (default: lab3) as if it stood beside lab3's; a test
// failure when it has errors.
inline std::unique_ptr<site::SiteFile> lab3_file(const std::string& text = lab3_text()) {
    auto f = site::SiteFile::from_text("site.yaml", text, lab3_path().parent_path());
    EXPECT_TRUE(f->ok()) << f->diag().render();
    return f;
}

// examples/rack/site.yaml (bonds, VLANs, IPv6, RAID1, data disks), parsed like lab3_file().
inline std::filesystem::path rack_path() {
    return std::filesystem::path(AIRSTRAP_SOURCE_DIR) / "examples/rack/site.yaml";
}
inline std::unique_ptr<site::SiteFile> rack_file(const std::string& text = slurp(rack_path())) {
    auto f = site::SiteFile::from_text("site.yaml", text, rack_path().parent_path());
    EXPECT_TRUE(f->ok()) << f->diag().render();
    return f;
}

// `text` with the first `from` replaced by `to`; a test failure when there is no `from`.
inline std::string replaced(std::string text, const std::string& from, const std::string& to) {
    auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    return text;
}

// Fixed secrets, so that golden files are stable. Not a real site's.
inline site::Secrets fixed_secrets() {
    site::Secrets s;
    s.site_secret = crypto::Bytes(32, 0xa5);
    s.root_password = "golden-root-password";
    s.default_password = "golden-default-password";
    s.keystone_admin_password = "golden-keystone-password";
    s.user_passwords = {{"uat", "golden-uat-password"}};
    return s;
}

}  // namespace airstrap::testutil
