// Packstack's answer-file parameters per release, from packstack's own plugins (the TSVs
// in site/packstack/, embedded at build time). Used to reject unknown keys with
// "did you mean", to check values against a parameter's options, and later to write the
// answer file.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace airstrap::site {

struct PackstackParam {
    std::string name;
    std::string default_value;         // as packstack's source writes it; may be an expression
    std::vector<std::string> options;  // allowed values, when packstack validates options
    std::string plugin;
};

class PackstackRelease {
  public:
    const std::string& name() const { return name_; }
    const PackstackParam* find(std::string_view key) const;
    const std::vector<PackstackParam>& params() const { return params_; }
    std::vector<std::string> names() const;

    // The key that turns service `service` on or off: "swift" → CONFIG_SWIFT_INSTALL,
    // "demo" → CONFIG_PROVISION_DEMO. Empty when this release has no such key.
    std::string service_key(std::string_view service) const;
    // Every service name that service_key() knows in this release.
    std::vector<std::string> service_names() const;

  private:
    friend const PackstackRelease* packstack_release(std::string_view);
    std::string name_;
    std::vector<PackstackParam> params_;
};

// nullptr for an unknown release.
const PackstackRelease* packstack_release(std::string_view name);
// All releases, oldest first (queens … master).
std::vector<std::string> packstack_release_names();

}  // namespace airstrap::site
