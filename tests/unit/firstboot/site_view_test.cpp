#include "firstboot/site_view.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "site/site_file.hpp"
#include "site/site_json.hpp"

namespace airstrap::firstboot {
namespace {

nlohmann::json lab3_json() {
    auto file = site::SiteFile::load(std::string(AIRSTRAP_SOURCE_DIR) + "/examples/lab3/site.yaml");
    EXPECT_TRUE(file->ok()) << file->diag().render();
    return site::to_json(file->site());
}

TEST(SiteView, ReadsTheLab3SiteAsTheKickstartWritesIt) {
    SiteView v = parse_site_json(lab3_json().dump(1));
    EXPECT_EQ(v.name, "lab3");
    EXPECT_EQ(v.distro, "el7");
    EXPECT_EQ(v.management_cidr, "192.168.111.0/24");
    EXPECT_EQ(v.management_broadcast, "192.168.111.255");
    EXPECT_EQ(v.port, 7447);
    EXPECT_FALSE(v.firewalld);
    EXPECT_FALSE(v.network_manager);
    EXPECT_EQ(v.selinux, "disabled");
    ASSERT_EQ(v.nodes.size(), 3u);
    EXPECT_EQ(v.controller().name, "controller-node");
    EXPECT_EQ(v.controller().address, "192.168.111.10");
    const NodeView* net = v.node("network-node");
    ASSERT_NE(net, nullptr);
    EXPECT_EQ(net->role, Role::network);
    EXPECT_EQ(net->address, "192.168.111.11");
    EXPECT_EQ(net->external_nic, "ens34");
    EXPECT_EQ(net->external_bridge, "br-ex");
    EXPECT_TRUE(v.node("compute-node")->nested_virtualization);
    EXPECT_EQ(v.fqdn(*v.node("compute-node")), "compute-node.lab.local");
}

void expect_error(nlohmann::json j, const std::string& text) {
    try {
        parse_site_json(j.dump());
        ADD_FAILURE() << "accepted";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
}

TEST(SiteView, RejectsWhatItCannotUseWithThePath) {
    auto j = lab3_json();
    j.erase("firstboot");
    expect_error(j, "site.json: (document): missing key 'firstboot'");
    j = lab3_json();
    j["nodes"][2]["interfaces"][0]["address"] = "192.168.111";
    expect_error(j, "nodes[2].interfaces[0].address: expected the node's IPv4 address");
    j = lab3_json();
    j["nodes"][0]["role"] = "compute";
    expect_error(j, "nodes: expected exactly one controller");
    j = lab3_json();
    j["firstboot"]["port"] = 70000;
    expect_error(j, "firstboot.port: expected a whole number from 1 to 65535");
    j = lab3_json();
    j["nodes"][1]["name"] = "controller-node";
    expect_error(j, "'controller-node' appears twice");
    expect_error(nlohmann::json("text"), "expected an object");
    try {
        parse_site_json("{\"format\":1,");
        ADD_FAILURE();
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos);
    }
}

}  // namespace
}  // namespace airstrap::firstboot
