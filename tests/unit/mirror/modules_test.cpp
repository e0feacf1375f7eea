// Modular filtering as dnf does it: default streams visible, other streams hidden, and
// non-modular packages shadowed by an active stream's package of the same name.
#include "repo-mirror/modules.hpp"

#include <gtest/gtest.h>

#include <algorithm>

using namespace airstrap::mirror;

namespace {

const char* const modules_yaml = R"(# a comment before the first document
---
document: modulemd
version: 2
data:
  name: nodejs
  stream: "10"
  version: 1
  artifacts:
    rpms:
    - nodejs-1:10.24.0-1.module_el8+1.noarch
    - nodejs-docs-1:10.24.0-1.module_el8+1.noarch
...
---
document: modulemd
version: 2
data:
  name: nodejs
  stream: "12"
  version: 1
  artifacts:
    rpms:
    - nodejs-1:12.22.0-1.module_el8+2.noarch
...
---
document: modulemd-defaults
version: 1
data:
  module: nodejs
  stream: "10"
...
)";

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(Modules, NormalisesEpoch) {
    EXPECT_EQ(normalised_nevra("bash-4.2-1.x86_64"), "bash-0:4.2-1.x86_64");
    EXPECT_EQ(normalised_nevra("nodejs-1:10.24.0-1.module_el8+1.noarch"),
              "nodejs-1:10.24.0-1.module_el8+1.noarch");
}

TEST(Modules, DefaultStreamVisibleOthersHidden) {
    ModuleIndex index;
    index.add(modules_yaml, "AppStream");
    ASSERT_EQ(index.streams.size(), 2u);
    EXPECT_EQ(index.defaults.at("nodejs"), "10");
    EXPECT_EQ(index.documents.size(), 3u);
    std::vector<std::string> all = {"nodejs-1:10.24.0-1.module_el8+1.noarch",
                                    "nodejs-docs-1:10.24.0-1.module_el8+1.noarch",
                                    "nodejs-1:12.22.0-1.module_el8+2.noarch",
                                    "nodejs-8.0-1.el8.noarch",  // non-modular, same name
                                    "bash-4.4-1.el8.x86_64"};
    auto hidden = modular_hidden(index, all);
    EXPECT_TRUE(contains(hidden, "nodejs-1:12.22.0-1.module_el8+2.noarch"));
    EXPECT_TRUE(contains(hidden, "nodejs-8.0-1.el8.noarch"));
    EXPECT_FALSE(contains(hidden, "nodejs-1:10.24.0-1.module_el8+1.noarch"));
    EXPECT_FALSE(contains(hidden, "bash-4.4-1.el8.x86_64"));
    EXPECT_EQ(hidden.size(), 2u);
}

TEST(Modules, EnabledStreamOverridesTheDefault) {
    ModuleIndex index;
    index.add(modules_yaml, "AppStream");
    auto hidden = modular_hidden(
        index, {"nodejs-1:10.24.0-1.module_el8+1.noarch", "nodejs-1:12.22.0-1.module_el8+2.noarch"},
        {{"nodejs", "12"}});
    EXPECT_EQ(hidden, std::vector<std::string>{"nodejs-1:10.24.0-1.module_el8+1.noarch"});
}

TEST(Modules, BrokenYamlIsAnErrorNotAHang) {
    ModuleIndex index;
    EXPECT_ANY_THROW(index.add(",\n  x: [\n", "AppStream"));
}

}  // namespace
