// The boot entries of a site's media: the whole site, or one node being reprovisioned.
#include <gtest/gtest.h>

#include "builder/iso.hpp"
#include "common/error.hpp"
#include "site/site_file.hpp"
#include "tests/unit/test_support.hpp"

using namespace airstrap;

TEST(MenuPlan, TheWholeSiteDefaultsToFindingTheNodeByMac) {
    auto f = testutil::lab3_file();
    auto plan = builder::site_menu_plan(f->site(), "hd:LABEL=X:/ks/", "console=ttyS0", 10);
    ASSERT_EQ(plan.entries.size(), 7u);  // site, 3 roles, 3 nodes
    EXPECT_EQ(plan.entries[0].id, "airstrap-site");
    EXPECT_EQ(plan.entries[0].args, "inst.ks=hd:LABEL=X:/ks/site.ks console=ttyS0");
    EXPECT_EQ(plan.entries[6].id, "airstrap-node-compute-node");
    EXPECT_EQ(plan.entries[6].title, "compute-node (compute, 192.168.111.12)");
    EXPECT_TRUE(plan.entries[6].grouped);
}

TEST(MenuPlan, OneNodesMediaInstallsThatNodeByDefault) {
    auto f = testutil::lab3_file();
    auto plan = builder::site_menu_plan(f->site(), "hd:LABEL=X:/ks/", "", 10, "compute-node");
    ASSERT_EQ(plan.entries.size(), 1u);
    EXPECT_EQ(plan.entries[0].id, "airstrap-node-compute-node");
    EXPECT_EQ(plan.entries[0].title, "Install lab3: compute-node (compute, 192.168.111.12)");
    EXPECT_EQ(plan.entries[0].args, "inst.ks=hd:LABEL=X:/ks/compute.ks airstrap.node=compute-node");
    EXPECT_FALSE(plan.entries[0].grouped);
    try {
        builder::site_menu_plan(f->site(), "x", "", 10, "compute-nod");
        FAIL() << "no error for an unknown node";
    } catch (const InputError& e) {
        EXPECT_STREQ(e.what(),
                     "'compute-nod' is not a node of site lab3 (did you mean 'compute-node'?); its "
                     "nodes: controller-node, network-node, compute-node");
    }
}

TEST(MenuPlan, ANetworkTreeGivesEachNodeItsOwnKickstart) {
    auto f = testutil::lab3_file();
    auto plan = builder::site_menu_plan(f->site(), "http://s/ks/", "", 10, "", true);
    ASSERT_EQ(plan.entries.size(), 3u);  // no site or role profile: one entry per node
    EXPECT_EQ(plan.entries[0].id, "airstrap-node-controller-node");
    EXPECT_EQ(plan.entries[2].args,
              "inst.ks=http://s/ks/nodes/compute-node.ks airstrap.node=compute-node");
    for (const auto& e : plan.entries) EXPECT_FALSE(e.grouped) << e.id;
}
