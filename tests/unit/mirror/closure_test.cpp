// The closure on hand-written repodata: what libsolv must get right for a node to install.
#include "repo-mirror/closure.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

#include "common/checksum.hpp"
#include "common/error.hpp"

using namespace airstrap::mirror;

namespace {

// One <package> of primary.xml. deps: "requires:name >= 1.0", "recommends:x", "provides:y".
std::string package(const std::string& name, const std::string& epoch, const std::string& ver,
                    std::vector<std::string> deps = {}) {
    std::string rpm_deps;
    for (const char* kind : {"provides", "requires", "recommends"}) {
        std::string entries;
        for (const auto& d : deps) {
            if (!d.starts_with(std::string(kind) + ":")) continue;
            std::string spec = d.substr(std::string(kind).size() + 1);
            auto sp = spec.find(' ');
            if (sp == std::string::npos) {
                entries += "<rpm:entry name=\"" + spec + "\"/>";
            } else {
                std::string n = spec.substr(0, sp), rest = spec.substr(sp + 1);
                std::string op = rest.substr(0, rest.find(' ')),
                            v = rest.substr(rest.find(' ') + 1);
                std::string flags = op == ">=" ? "GE" : op == "=" ? "EQ" : "LT";
                std::string e = "0";
                if (auto c = v.find(':'); c != std::string::npos) {
                    e = v.substr(0, c);
                    v = v.substr(c + 1);
                }
                entries += "<rpm:entry name=\"" + n + "\" flags=\"" + flags + "\" epoch=\"" + e +
                           "\" ver=\"" + v + "\"/>";
            }
        }
        if (!entries.empty())
            rpm_deps += "<rpm:" + std::string(kind) + ">" + entries + "</rpm:" + kind + ">";
    }
    std::string file = name + "-" + ver + "-1.noarch.rpm";
    // libsolv matches filelists entries to packages by this id: it must be unique.
    std::string pkgid = airstrap::checksum_hex(airstrap::ChecksumType::sha256, epoch + ":" + file);
    return "<package type=\"rpm\"><name>" + name + "</name><arch>noarch</arch><version epoch=\"" +
           epoch + "\" ver=\"" + ver + "\" rel=\"1\"/><checksum type=\"sha256\" pkgid=\"YES\">" +
           pkgid + "</checksum><size package=\"100\" installed=\"1\" archive=\"1\"/>" +
           "<location href=\"Packages/" + file + "\"/><format>" + rpm_deps + "</format></package>";
}

std::string primary(const std::vector<std::string>& packages) {
    std::string xml =
        "<?xml version=\"1.0\"?><metadata xmlns=\"http://linux.duke.edu/metadata/common\" "
        "xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\" packages=\"" +
        std::to_string(packages.size()) + "\">";
    for (const auto& p : packages) xml += p;
    return xml + "</metadata>";
}

std::vector<std::string> names(const std::vector<PackageRef>& refs) {
    std::vector<std::string> out;
    for (const auto& r : refs)
        out.push_back(r.name + "-" + (r.epoch.empty() ? "" : r.epoch + ":") + r.version);
    std::sort(out.begin(), out.end());
    return out;
}

class Closure : public ::testing::Test {
  protected:
    void SetUp() override {
        RepoMetadata md;
        md.name = "test";
        packages = {{"app", "0", "1.0"},          {"lib", "1", "1.5"},
                    {"lib", "1", "2.0"},          {"lib", "0", "9.0"},
                    {"toolpkg", "0", "1.0"},      {"extra", "0", "1.0"},
                    {"chain-top", "0", "1.0"},    {"chain-mid", "0", "1.0"},
                    {"virtual-user", "0", "1.0"}, {"nginx", "0", "1.0"}};
        md.primary = primary({
            package("app", "0", "1.0",
                    {"requires:lib >= 1:2.0", "requires:/usr/share/tool/data", "recommends:extra"}),
            package("lib", "1", "1.5"),
            package("lib", "1", "2.0"),
            package("lib", "0", "9.0"),  // higher version, lower epoch: loses
            package("toolpkg", "0", "1.0"),
            package("extra", "0", "1.0"),
            package("chain-top", "0", "1.0", {"requires:chain-mid"}),
            package("chain-mid", "0", "1.0", {"requires:missing-capability >= 2"}),
            package("virtual-user", "0", "1.0", {"requires:webserver"}),
            package("nginx", "0", "1.0", {"provides:webserver"}),
        });
        // Like createrepo's: every package, in primary's order; toolpkg ships a file that
        // primary does not list (primary lists only /etc and *bin/ files, and libsolv relies
        // on that, so the path must be neither).
        md.filelists =
            "<?xml version=\"1.0\"?><filelists xmlns=\"http://linux.duke.edu/metadata/filelists\" "
            "packages=\"" +
            std::to_string(packages.size()) + "\">";
        for (const auto& [name, epoch, ver] : packages) {
            md.filelists +=
                "<package pkgid=\"" +
                airstrap::checksum_hex(airstrap::ChecksumType::sha256,
                                       epoch + ":" + name + "-" + ver + "-1.noarch.rpm") +
                "\" name=\"" + name + "\" arch=\"noarch\"><version epoch=\"" + epoch + "\" ver=\"" +
                ver + "\" rel=\"1\"/>" +
                (name == "toolpkg" ? "<file>/usr/share/tool/data</file>" : "") + "</package>";
        }
        md.filelists += "</filelists>";
        md.comps =
            "<comps><group><id>core</id><packagelist>"
            "<packagereq type=\"mandatory\">app</packagereq>"
            "<packagereq type=\"default\">nginx</packagereq></packagelist></group></comps>";
        pool.add_repo(md);
    }
    PackagePool pool;
    std::vector<std::tuple<std::string, std::string, std::string>> packages;  // in primary's order
};

TEST_F(Closure, VersionedEpochFileAndWeakDependencies) {
    ClosureRequest r;
    r.install = {"app"};
    EXPECT_EQ(names(pool.closure(r)),
              (std::vector<std::string>{"app-1.0", "extra-1.0", "lib-1:2.0", "toolpkg-1.0"}));
    r.weak_deps = false;
    EXPECT_EQ(names(pool.closure(r)),
              (std::vector<std::string>{"app-1.0", "lib-1:2.0", "toolpkg-1.0"}));
}

TEST_F(Closure, VirtualProvide) {
    ClosureRequest r;
    r.install = {"virtual-user"};
    EXPECT_EQ(names(pool.closure(r)), (std::vector<std::string>{"nginx-1.0", "virtual-user-1.0"}));
}

TEST_F(Closure, GroupsInstallTheirDefaultsEvenWithoutWeakDeps) {
    ClosureRequest r;
    r.install = {"@core"};
    r.weak_deps = false;
    auto n = names(pool.closure(r));
    EXPECT_TRUE(std::find(n.begin(), n.end(), "nginx-1.0") != n.end());
    EXPECT_TRUE(std::find(n.begin(), n.end(), "app-1.0") != n.end());
}

TEST_F(Closure, ExcludedPackageIsNeverChosen) {
    ClosureRequest r;
    r.install = {"app"};
    r.exclude = {"extra"};
    auto n = names(pool.closure(r));
    EXPECT_TRUE(std::find(n.begin(), n.end(), "extra-1.0") == n.end());
}

TEST_F(Closure, UnresolvableRequestShowsTheChain) {
    ClosureRequest r;
    r.install = {"chain-top"};
    try {
        pool.closure(r);
        FAIL() << "solved";
    } catch (const airstrap::InputError& e) {
        std::string m = e.what();
        EXPECT_NE(m.find("nothing provides missing-capability >= 2 needed by chain-mid"),
                  std::string::npos)
            << m;
        EXPECT_NE(m.find("chain-top"), std::string::npos) << m;
    }
}

TEST_F(Closure, UnknownNameGetsASuggestion) {
    ClosureRequest r;
    r.install = {"toolpgk"};
    try {
        pool.closure(r);
        FAIL();
    } catch (const airstrap::InputError& e) {
        EXPECT_EQ(std::string(e.what()), "not in any source: toolpgk (did you mean 'toolpkg'?)");
    }
}

TEST_F(Closure, OptionalNamesAreTakenOnlyWhenPresent) {
    ClosureRequest r;
    r.install = {"toolpkg"};
    r.optional = {"nginx", "grub2-not-here"};
    EXPECT_EQ(names(pool.closure(r)), (std::vector<std::string>{"nginx-1.0", "toolpkg-1.0"}));
}

TEST(ClosureSafety, UnsafeLocationIsRefused) {
    PackagePool pool;
    RepoMetadata md;
    md.name = "evil";
    md.primary = primary({package("x", "0", "1")});
    auto at = md.primary.find("Packages/");
    md.primary.replace(at, 9, "../../");
    EXPECT_THROW(pool.add_repo(md), airstrap::InputError);
}

}  // namespace
