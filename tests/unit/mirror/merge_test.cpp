// comps and updateinfo of several sources merged into one, first definition winning.
#include "repo-mirror/merge.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"

using namespace airstrap::mirror;

namespace {

TEST(Merge, CompsGroupsFromAllSourcesOnceEach) {
    std::string base = R"(<?xml version="1.0"?>
<!DOCTYPE comps PUBLIC "-//CentOS//DTD Comps info//EN" "comps.dtd">
<comps><group><id>core</id><name>Core</name></group>
<environment><id>minimal-environment</id></environment></comps>)";
    std::string appstream = R"(<comps><group><id>core</id><name>Other core</name></group>
<group><id>web-server</id></group></comps>)";
    std::string merged = merge_comps({{"BaseOS", base}, {"AppStream", appstream}, {"empty", ""}});
    EXPECT_NE(merged.find("<id>web-server</id>"), std::string::npos) << merged;
    EXPECT_NE(merged.find("<id>minimal-environment</id>"), std::string::npos);
    EXPECT_NE(merged.find("<name>Core</name>"), std::string::npos);
    EXPECT_EQ(merged.find("Other core"), std::string::npos);  // the first definition wins
}

TEST(Merge, UpdateinfoAdvisoriesOnceEach) {
    std::string a = "<updates><update type=\"security\"><id>RLSA-1</id></update></updates>";
    std::string b =
        "<updates><update><id>RLSA-1</id></update><update><id>RLSA-2</id></update></updates>";
    std::string merged = merge_updateinfo({{"a", a}, {"b", b}});
    EXPECT_NE(merged.find("RLSA-2"), std::string::npos);
    EXPECT_EQ(merged.find("RLSA-1"), merged.rfind("RLSA-1"));
}

TEST(Merge, NothingToMergeAndBrokenInput) {
    EXPECT_EQ(merge_comps({{"a", ""}}), "");
    EXPECT_THROW(merge_comps({{"broken", "<comps><group>"}}), airstrap::InputError);
    EXPECT_THROW(merge_updateinfo({{"wrong root", "<comps/>"}}), airstrap::InputError);
}

}  // namespace
