// A role's package set: the distro's defaults per role, then the site's packages: section.
#include "site/packages.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "tests/unit/test_support.hpp"

using namespace airstrap;
using site::Role;

namespace {

bool has(const std::vector<std::string>& v, const std::string& p) {
    return std::find(v.begin(), v.end(), p) != v.end();
}

std::unique_ptr<site::SiteFile> site_file(const std::string& name) {
    auto text = testutil::slurp(std::filesystem::path(AIRSTRAP_TEST_DATA) / "sites" / name);
    auto f = site::SiteFile::from_text("site.yaml", text, testutil::lab3_path().parent_path());
    EXPECT_TRUE(f->ok()) << f->diag().render();
    return f;
}

}  // namespace

TEST(PackageSet, El7DefaultsPerRole) {
    auto f = testutil::lab3_file();
    auto ctl = site::packages_for(f->site(), Role::controller);
    ASSERT_FALSE(ctl.install.empty());
    EXPECT_EQ(ctl.install[0], "@^minimal");
    EXPECT_TRUE(has(ctl.install, "@core"));
    EXPECT_TRUE(has(ctl.install, "airstrap-firstboot"));
    EXPECT_TRUE(has(ctl.install, "openstack-packstack"));
    EXPECT_FALSE(has(ctl.install, "network-scripts"));  // EL7: in initscripts
    auto cmp = site::packages_for(f->site(), Role::compute);
    EXPECT_FALSE(has(cmp.install, "openstack-packstack"));
    EXPECT_TRUE(has(cmp.exclude, "libvirt-daemon-config-network"));
}

TEST(PackageSet, EnvironmentGroupByDistro) {
    EXPECT_STREQ(site::minimal_environment(site::Distro::el7), "@^minimal");
    EXPECT_STREQ(site::minimal_environment(site::Distro::el8), "@^minimal-environment");
    EXPECT_STREQ(site::minimal_environment(site::Distro::el9), "@^minimal-environment");
    auto el9 = site_file("lab3-el9.yaml");
    EXPECT_EQ(site::packages_for(el9->site(), Role::compute).install[0], "@^minimal-environment");
}

TEST(PackageSet, SiteAdditionsAndRemovalsApply) {
    auto f = testutil::lab3_file(testutil::replaced(
        testutil::lab3_text(), "packages:\n",
        "packages:\n  common: {add: [vim-enhanced, tcpdump], remove: [postfix]}\n"
        "  controller: {add: [openstack-utils], remove: [tcpdump]}\n"));
    auto ctl = site::packages_for(f->site(), Role::controller);
    EXPECT_TRUE(has(ctl.install, "vim-enhanced"));
    EXPECT_TRUE(has(ctl.install, "openstack-utils"));
    EXPECT_FALSE(has(ctl.install, "tcpdump"));
    EXPECT_TRUE(has(ctl.exclude, "tcpdump"));
    EXPECT_TRUE(has(ctl.exclude, "postfix"));
    auto cmp = site::packages_for(f->site(), Role::compute);
    EXPECT_TRUE(has(cmp.install, "tcpdump"));
}
