#include "site/packstack_params.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <mutex>

#include "common/embedded.hpp"
#include "common/text.hpp"

namespace airstrap {
extern const EmbeddedFile packstack_tables[];
extern const std::size_t packstack_tables_count;
}  // namespace airstrap

namespace airstrap::site {

namespace {

// Packstack writes options as a Python list literal: ["y", "n"] or ['qemu', 'kvm'].
std::vector<std::string> parse_python_list(std::string_view s) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < s.size()) {
        char q = s[i];
        if (q != '"' && q != '\'') {
            ++i;
            continue;
        }
        std::size_t end = s.find(q, i + 1);
        if (end == std::string_view::npos) break;
        out.emplace_back(s.substr(i + 1, end - i - 1));
        i = end + 1;
    }
    return out;
}

std::string upper(std::string_view s) {
    std::string out;
    for (char c : s)
        out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

// Releases in their order of appearance upstream; the TSV names sort differently.
const char* const release_order[] = {"queens",  "rocky",  "stein",  "train", "ussuri", "victoria",
                                     "wallaby", "xena",   "yoga",   "zed",   "2023.1", "2023.2",
                                     "2024.1",  "2024.2", "2025.1", "master"};

}  // namespace

const PackstackParam* PackstackRelease::find(std::string_view key) const {
    for (const auto& p : params_) {
        if (p.name == key) return &p;
    }
    return nullptr;
}

std::vector<std::string> PackstackRelease::names() const {
    std::vector<std::string> out;
    for (const auto& p : params_) out.push_back(p.name);
    return out;
}

std::string PackstackRelease::service_key(std::string_view service) const {
    // Only the keys service_names() lists: CONFIG_PROVISION_DEMO_FLOATRANGE is a setting,
    // not a toggle.
    std::string u = upper(service);
    if (u.empty()) return {};
    std::string name(service);
    std::replace(name.begin(), name.end(), '-', '_');  // heat-cfn is heat_cfn
    auto names = service_names();
    if (std::find(names.begin(), names.end(), name) == names.end()) return {};
    for (const std::string& key : {"CONFIG_PROVISION_" + u, "CONFIG_" + u + "_INSTALL"}) {
        if (find(key)) return key;
    }
    return {};
}

std::vector<std::string> PackstackRelease::service_names() const {
    std::vector<std::string> out;
    for (const auto& p : params_) {
        std::string_view n = p.name;
        std::string name;
        if (n.starts_with("CONFIG_PROVISION_") && n.find('_', 17) == std::string_view::npos) {
            name = n.substr(17);
        } else if (n.starts_with("CONFIG_") && n.ends_with("_INSTALL")) {
            name = n.substr(7, n.size() - 7 - 8);
        } else {
            continue;
        }
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out.push_back(name);
    }
    return out;
}

const PackstackRelease* packstack_release(std::string_view name) {
    static std::once_flag once;
    static std::map<std::string, std::unique_ptr<PackstackRelease>, std::less<>> releases;
    std::call_once(once, [] {
        for (std::size_t r = 0; r < packstack_tables_count; ++r) {
            auto rel = std::make_unique<PackstackRelease>();
            rel->name_ = packstack_tables[r].name;
            for (const auto& line : text::split(packstack_tables[r].text, '\n')) {
                if (line.empty() || line[0] == '#' || line.starts_with("conf_name\t")) continue;
                auto cols = text::split(line, '\t');
                if (cols.size() < 5) continue;
                PackstackParam p;
                p.name = cols[0];
                p.default_value = cols[1];
                if (cols[2].find("validate_options") != std::string::npos) {
                    p.options = parse_python_list(cols[3]);
                }
                p.plugin = cols[4];
                rel->params_.push_back(std::move(p));
            }
            releases.emplace(rel->name_, std::move(rel));
        }
    });
    auto it = releases.find(name);
    return it == releases.end() ? nullptr : it->second.get();
}

std::vector<std::string> packstack_release_names() {
    std::vector<std::string> out;
    for (const char* r : release_order) {
        if (packstack_release(r)) out.emplace_back(r);
    }
    return out;
}

}  // namespace airstrap::site
