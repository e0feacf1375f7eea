// Kickstart profiles for lab3: golden files per dialect, byte-identical output, and the
// seed's install-time steps, checked one by one.
#include "kickstart/render.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.hpp"
#include "common/text.hpp"
#include "node/credentials.hpp"
#include "site/packages.hpp"
#include "site/site_file.hpp"

namespace fs = std::filesystem;
using namespace airstrap;
using site::Role;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Fixed test secrets, so that golden files are stable. Not a real site's secret.
site::Secrets test_secrets() {
    site::Secrets s;
    s.site_secret = crypto::Bytes(32, 0xa5);
    s.root_password = "golden-root-password";
    s.default_password = "golden-default-password";
    s.keystone_admin_password = "golden-keystone-password";
    return s;
}

std::unique_ptr<site::SiteFile> load(const fs::path& p) {
    auto f = site::SiteFile::from_text(p.filename().string(), slurp(p), "/srv/lab3");
    EXPECT_TRUE(f->ok()) << f->diag().render();
    return f;
}

const fs::path source_dir = AIRSTRAP_SOURCE_DIR;
const fs::path data_dir = AIRSTRAP_TEST_DATA;

struct GoldenCase {
    const char* name;
    fs::path site;
    friend void PrintTo(const GoldenCase& c, std::ostream* os) { *os << c.name; }
};

class Golden : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(Golden, MatchesTheCommittedKickstarts) {
    auto file = load(GetParam().site);
    std::vector<std::optional<Role>> profiles(std::begin(site::all_roles),
                                              std::end(site::all_roles));
    profiles.push_back(std::nullopt);  // the site profile
    for (std::optional<Role> role : profiles) {
        std::string text = kickstart::render_kickstart(file->site(), test_secrets(), role);
        fs::path golden = data_dir / "golden" / GetParam().name /
                          (role ? std::string(site::to_string(*role)) + ".ks"
                                : std::string(kickstart::site_profile_name));
        if (std::getenv("AIRSTRAP_UPDATE_EXPECTED")) {
            fs::create_directories(golden.parent_path());
            std::ofstream(golden, std::ios::binary) << text;
            continue;
        }
        ASSERT_TRUE(fs::exists(golden)) << golden;
        EXPECT_EQ(slurp(golden), text) << golden;
    }
    for (const auto& n : file->site().nodes) {
        std::string text = kickstart::render_node_kickstart(file->site(), test_secrets(), n.name);
        fs::path golden =
            data_dir / "golden" / GetParam().name / kickstart::node_kickstart_path(n.name);
        if (std::getenv("AIRSTRAP_UPDATE_EXPECTED")) {
            fs::create_directories(golden.parent_path());
            std::ofstream(golden, std::ios::binary) << text;
            continue;
        }
        ASSERT_TRUE(fs::exists(golden)) << golden;
        EXPECT_EQ(slurp(golden), text) << golden;
    }
}

INSTANTIATE_TEST_SUITE_P(
    Lab3, Golden,
    ::testing::Values(GoldenCase{"lab3-el7", source_dir / "examples/lab3/site.yaml"},
                      GoldenCase{"lab3-el8", data_dir / "sites/lab3-el8.yaml"},
                      GoldenCase{"lab3-el9", data_dir / "sites/lab3-el9.yaml"}),
    [](const auto& param) {
        std::string n = param.param.name;
        std::replace(n.begin(), n.end(), '-', '_');
        return n;
    });

class Lab3El7 : public ::testing::Test {
  protected:
    std::unique_ptr<site::SiteFile> file = load(source_dir / "examples/lab3/site.yaml");
    const site::Site& site() { return file->site(); }
    std::string ks(Role r) { return kickstart::render_kickstart(site(), test_secrets(), r); }
};

bool has_line(const std::string& text, const std::string& line) {
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

TEST_F(Lab3El7, SameInputSameBytes) {
    EXPECT_EQ(ks(Role::compute), ks(Role::compute));
    auto again = load(source_dir / "examples/lab3/site.yaml");
    EXPECT_EQ(ks(Role::network),
              kickstart::render_kickstart(again->site(), test_secrets(), Role::network));
}

TEST_F(Lab3El7, SeedSecurityStepsAtInstallTime) {
    for (Role r : site::all_roles) {
        std::string t = ks(r);
        EXPECT_TRUE(has_line(t, "selinux --disabled"));
        EXPECT_TRUE(has_line(t, "firewall --disabled"));
        EXPECT_TRUE(has_line(
            t, "services --enabled=sshd,chronyd,network --disabled=NetworkManager,firewalld"));
        EXPECT_TRUE(has_line(t, "install"));  // el7 dialect
        EXPECT_TRUE(has_line(t, "auth --enableshadow --passalgo=sha512"));
        EXPECT_TRUE(has_line(t, "@^minimal"));
        EXPECT_TRUE(has_line(t, "timezone Asia/Shanghai"));  // local RTC: no --utc
        EXPECT_EQ(t.find("restorecon"), std::string::npos);  // SELinux disabled
    }
}

TEST_F(Lab3El7, RootPasswordIsAHashNeverThePassword) {
    std::string t = ks(Role::controller);
    EXPECT_EQ(t.find("golden-root-password"), std::string::npos);
    EXPECT_EQ(t.find("golden-default-password"), std::string::npos);
    EXPECT_NE(t.find("\nrootpw --iscrypted $6$"), std::string::npos);
}

TEST_F(Lab3El7, NodeTableMatchesMacsOfItsRoleOnly) {
    std::string net = ks(Role::network);
    EXPECT_NE(net.find("00:0c:29:2c:6f:6f|00:0c:29:2c:6f:79) node=network-node ;;"),
              std::string::npos);
    // The controller's MAC is in site.json, but must not pick a node in this profile.
    EXPECT_EQ(net.find("00:0c:29:3a:10:10) node="), std::string::npos);
    EXPECT_EQ(net.find("controller-node)\n"), std::string::npos);
    EXPECT_NE(net.find("airstrap.node=*) node=\"${word#airstrap.node=}\""), std::string::npos);
}

TEST_F(Lab3El7, StaticNetworkPerNicAndBridgedNicWithoutAddress) {
    std::string net = ks(Role::network);
    EXPECT_TRUE(has_line(net,
                         "network --device=00:0c:29:2c:6f:6f --onboot=yes --bootproto=static "
                         "--ip=192.168.111.11 --netmask=255.255.255.0 --gateway=192.168.111.2 "
                         "--nameserver=192.168.111.2 --noipv6 --activate --mtu=1500"));
    EXPECT_TRUE(has_line(net,
                         "network --device=00:0c:29:2c:6f:79 --onboot=yes --bootproto=static "
                         "--noipv4 --noipv6 --mtu=1500"));
    EXPECT_TRUE(has_line(net, "network --hostname=network-node.lab.local"));
}

TEST_F(Lab3El7, ComputeGetsNestedVirtAndNoLibvirtDefaultNetwork) {
    std::string c = ks(Role::compute);
    EXPECT_TRUE(has_line(c, "-libvirt-daemon-config-network"));
    EXPECT_TRUE(has_line(c, "options kvm_intel nested=1"));
    EXPECT_TRUE(has_line(c, "options kvm_amd nested=1"));
    EXPECT_NE(c.find("rpm -e --nodeps libvirt-daemon-config-network"), std::string::npos);
    std::string ctl = ks(Role::controller);
    EXPECT_EQ(ctl.find("kvm_intel"), std::string::npos);
    EXPECT_TRUE(has_line(ctl, "openstack-packstack"));
}

TEST_F(Lab3El7, LocalRepoReplacesVendorRepos) {
    std::string t = ks(Role::compute);
    EXPECT_TRUE(has_line(t, "baseurl=file:///opt/airstrap/repo"));
    EXPECT_NE(t.find("mv \"$f\" \"$f.airstrap-disabled\""), std::string::npos);
    EXPECT_TRUE(has_line(t, "%include /tmp/airstrap/source.ks"));
}

TEST_F(Lab3El7, PreTakesTheMediaRepositoryOnlyWithItsMetadata) {
    // A copy with repodata/ but no repomd.xml (empty, truncated) is no repository: %pre
    // looks further and, finding none, stops the install before Anaconda trips on it.
    std::string t = ks(Role::compute);
    EXPECT_TRUE(
        has_line(t, "    if [ -s /run/install/repo/airstrap/repo/repodata/repomd.xml ]; then"));
    EXPECT_EQ(t.find("/repodata ]"), std::string::npos);
}

TEST_F(Lab3El7, FirstBootServiceConfigAndSecret) {
    std::string t = ks(Role::controller);
    EXPECT_TRUE(has_line(t, "airstrap-firstboot"));
    EXPECT_TRUE(has_line(t, "systemctl enable airstrap-firstboot.service"));
    EXPECT_TRUE(has_line(t, crypto::to_hex(test_secrets().site_secret)));
    EXPECT_TRUE(has_line(t, "        cat > /etc/airstrap/site.key <<'AIRSTRAP_EOF'"));
    EXPECT_TRUE(has_line(t, "chmod 0600 /etc/airstrap/*.key"));
    EXPECT_NE(t.find("\"release\": \"queens\""), std::string::npos);
}

TEST_F(Lab3El7, SiteAdditionsAndRemovalsApply) {
    std::string text = slurp(source_dir / "examples/lab3/site.yaml");
    text.replace(text.find("packages:\n"), 10,
                 "packages:\n  common: {add: [vim-enhanced, tcpdump], remove: [postfix]}\n"
                 "  controller: {add: [openstack-utils], remove: [tcpdump]}\n");
    auto f = site::SiteFile::from_text("site.yaml", text, "/srv");
    ASSERT_TRUE(f->ok()) << f->diag().render();
    auto ctl = site::packages_for(f->site(), Role::controller);
    auto has = [](const std::vector<std::string>& v, const char* p) {
        return std::find(v.begin(), v.end(), p) != v.end();
    };
    EXPECT_TRUE(has(ctl.install, "vim-enhanced"));
    EXPECT_TRUE(has(ctl.install, "openstack-utils"));
    EXPECT_FALSE(has(ctl.install, "tcpdump"));
    EXPECT_TRUE(has(ctl.exclude, "tcpdump"));
    EXPECT_TRUE(has(ctl.exclude, "postfix"));
    auto cmp = site::packages_for(f->site(), Role::compute);
    EXPECT_TRUE(has(cmp.install, "tcpdump"));
    EXPECT_FALSE(has(cmp.install, "openstack-packstack"));
}

TEST(Dialects, El9DiffersWhereItMust) {
    auto f = load(data_dir / "sites/lab3-el9.yaml");
    std::string t = kickstart::render_kickstart(f->site(), test_secrets(), Role::compute);
    EXPECT_FALSE(has_line(t, "install"));
    EXPECT_TRUE(has_line(t, "authselect select minimal --force"));
    EXPECT_TRUE(has_line(t, "@^minimal-environment"));
    EXPECT_TRUE(has_line(t, "timezone Asia/Shanghai --utc"));
    EXPECT_TRUE(has_line(t, "selinux --enforcing"));
    EXPECT_TRUE(has_line(t, "services --enabled=sshd,chronyd --disabled=firewalld"));
    EXPECT_NE(t.find("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGolden"), std::string::npos);
    EXPECT_TRUE(has_line(t,
                         "restorecon -R /root/.ssh /etc/airstrap /etc/yum.repos.d "
                         "/opt/airstrap/repo 2>/dev/null || true"));
}

TEST(Dialects, El8WithoutNetworkManagerInstallsNetworkScripts) {
    auto f = load(data_dir / "sites/lab3-el8.yaml");
    std::string t = kickstart::render_kickstart(f->site(), test_secrets(), Role::controller);
    EXPECT_TRUE(has_line(t, "network-scripts"));
    EXPECT_TRUE(has_line(t, "authselect select sssd --force"));
}

TEST(WriteKickstarts, WritesEachRoleTheSiteProfileAndEachNodeWithMode0600) {
    auto f = load(source_dir / "examples/lab3/site.yaml");
    fs::path dir = fs::temp_directory_path() / ("airstrap-ks-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    // A node the site no longer has: its kickstart (and key) goes.
    fs::create_directories(dir / "out" / "nodes");
    std::ofstream(dir / "out" / "nodes" / "old-node.ks") << "x";
    auto written = kickstart::write_kickstarts(f->site(), test_secrets(), dir / "out");
    std::vector<std::string> names;
    for (const auto& p : written) names.push_back(fs::relative(p, dir / "out").string());
    EXPECT_EQ(names, (std::vector<std::string>{"controller.ks", "network.ks", "compute.ks",
                                               "site.ks", "nodes/controller-node.ks",
                                               "nodes/network-node.ks", "nodes/compute-node.ks"}));
    for (const auto& p : written) {
        struct stat st {};
        ASSERT_EQ(::stat(p.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 07777, 0600u) << p;
    }
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& e : fs::recursive_directory_iterator(dir / "out")) ++entries;
    EXPECT_EQ(entries, 8u);  // no temp files left behind, nodes/old-node.ks gone
    EXPECT_FALSE(fs::exists(dir / "out" / "nodes" / "old-node.ks"));

    // A network tree: the per-node kickstarts only.
    written = kickstart::write_kickstarts(f->site(), test_secrets(), dir / "net",
                                          kickstart::KickstartSet::per_node);
    EXPECT_EQ(written.size(), 3u);
    entries = 0;
    for ([[maybe_unused]] const auto& e : fs::recursive_directory_iterator(dir / "net")) ++entries;
    EXPECT_EQ(entries, 4u);
    written = kickstart::write_kickstarts(f->site(), test_secrets(), dir / "media",
                                          kickstart::KickstartSet::profiles);
    EXPECT_EQ(written.size(), 4u);
    EXPECT_FALSE(fs::exists(dir / "media" / "nodes"));
    fs::remove_all(dir);
}

// What each node's own kickstart carries: its key, and only the controller's the site
// secret and deploy.sealed; no other node's key, MAC branch or address.
TEST(NodeKickstart, CarriesOnlyItsOwnCredentials) {
    auto f = load(source_dir / "examples/lab3/site.yaml");
    const auto secrets = test_secrets();
    std::string site_secret = crypto::to_hex(secrets.site_secret);
    for (const auto& n : f->site().nodes) {
        std::string t = kickstart::render_node_kickstart(f->site(), secrets, n.name);
        EXPECT_TRUE(t.starts_with("# airstrap kickstart: node " + n.name + " (")) << t;
        EXPECT_TRUE(has_line(t, crypto::to_hex(node::node_key(secrets.site_secret, n.name))))
            << n.name;
        for (const auto& other : f->site().nodes) {
            if (other.name == n.name) continue;
            EXPECT_EQ(t.find(crypto::to_hex(node::node_key(secrets.site_secret, other.name))),
                      std::string::npos)
                << n.name << " carries " << other.name << "'s key";
            EXPECT_EQ(t.find("\n" + other.name + ")\n"), std::string::npos) << n.name;
            EXPECT_EQ(t.find(") node=" + other.name + " ;;"), std::string::npos) << n.name;
        }
        bool controller = n.role == Role::controller;
        EXPECT_EQ(t.find(site_secret) != std::string::npos, controller) << n.name;
        EXPECT_EQ(t.find("/etc/airstrap/site.key") != std::string::npos, controller) << n.name;
        EXPECT_EQ(t.find("/etc/airstrap/deploy.sealed") != std::string::npos, controller) << n.name;
        // %pre refuses a machine that is not this node.
        EXPECT_NE(t.find("is not node " + n.name + " of site lab3"), std::string::npos);
        // The role's packages, as in the role profile.
        EXPECT_EQ(t.find("openstack-packstack") != std::string::npos, controller) << n.name;
    }
    EXPECT_THROW(kickstart::render_node_kickstart(f->site(), secrets, "nope"), InputError);
}

// The section of `text` that starts with the line `first` (up to its %end).
std::string section_of(const std::string& text, const std::string& first) {
    auto at = text.find("\n" + first + "\n");
    if (at == std::string::npos) return "";
    auto end = text.find("\n%end\n", at);
    return text.substr(at + 1, end == std::string::npos ? std::string::npos : end + 6 - at);
}

const char* report_header = "%post --log=/root/airstrap-install-report.log";

// The PXE kickstart's install report: the last section, with the marker line, the report key
// and no other key, signing the exact message of provision/service.hpp.
TEST(NodeKickstart, InstallReportIsTheLastSectionAndHoldsOnlyTheReportKey) {
    auto f = load(source_dir / "examples/lab3/site.yaml");
    const auto secrets = test_secrets();
    for (const auto& n : f->site().nodes) {
        crypto::Bytes node_key = node::node_key(secrets.site_secret, n.name);
        crypto::Bytes report_key = node::install_report_key(node_key);
        kickstart::InstallReport report{"http://192.168.111.5:8080/", report_key};
        std::string t = kickstart::render_node_kickstart(f->site(), secrets, n.name, report);
        std::string r = section_of(t, report_header);
        ASSERT_FALSE(r.empty()) << t;
        EXPECT_TRUE(t.ends_with(r)) << "the report is not the last section";
        EXPECT_EQ(t.find(report_header), t.rfind(report_header));
        // The marker line, exactly (the stand-in installer runs the section that has it).
        EXPECT_TRUE(has_line(r, kickstart::install_report_marker)) << r;
        EXPECT_TRUE(has_line(r, "node='" + n.name + "'")) << r;
        EXPECT_TRUE(has_line(r, "url='http://192.168.111.5:8080/'")) << r;
        EXPECT_TRUE(has_line(r, "key='" + crypto::to_hex(report_key) + "'")) << r;
        EXPECT_EQ(r.find(crypto::to_hex(node_key)), std::string::npos) << n.name;
        EXPECT_EQ(r.find(crypto::to_hex(secrets.site_secret)), std::string::npos) << n.name;
        // No --erroronfail (section_of matched the whole first line): a failed report fails
        // nothing.
        EXPECT_TRUE(r.starts_with(std::string(report_header) + "\n")) << r;
        // The message: "airstrap install report v1\nNODE\nNONCE\nTIME", no trailing newline.
        EXPECT_NE(r.find("mac=$(printf 'airstrap install report v1\\n%s\\n%s\\n%s' \"$node\" "
                         "\"$nonce\" \"$time\" |\n"
                         "            openssl dgst -sha256 -mac HMAC -macopt \"hexkey:$key\""),
                  std::string::npos)
            << r;
        EXPECT_NE(r.find("curl -fsS --connect-timeout 5 --max-time 10 "
                         "\"${url}airstrap/v1/nonce?node=$node\""),
                  std::string::npos)
            << r;
        EXPECT_NE(r.find("--data \"node=$node&nonce=$nonce&time=$time&mac=$mac\" "
                         "\"${url}airstrap/v1/installed\""),
                  std::string::npos)
            << r;
        EXPECT_TRUE(has_line(r, "            200)")) << r;
        // The report says what its key can do.
        EXPECT_NE(r.find("# node's install report key, derived one way from its node key"),
                  std::string::npos)
            << r;
        // No bashisms: busybox ash runs it in the stand-in.
        std::string code;
        for (const auto& line : text::split(r, '\n')) {
            if (!text::trim(line).starts_with("#")) code += line + "\n";
        }
        for (const char* bashism :
             {"[[", "function ", "local ", "${!", "<<<", "$'", "pipefail", "source "})
            EXPECT_EQ(code.find(bashism), std::string::npos) << bashism;
        // The installed system has what it runs.
        auto packages = section_of(t, "%packages");
        EXPECT_TRUE(has_line(packages, "curl")) << packages;
        EXPECT_TRUE(has_line(packages, "openssl")) << packages;
    }
}

TEST(NodeKickstart, InstallReportOnlyWhenAsked) {
    auto f = load(source_dir / "examples/lab3/site.yaml");
    const auto secrets = test_secrets();
    std::string t = kickstart::render_node_kickstart(f->site(), secrets, "compute-node");
    EXPECT_EQ(t.find(kickstart::install_report_marker), std::string::npos);
    EXPECT_EQ(t.find("airstrap/v1"), std::string::npos);
    EXPECT_FALSE(has_line(section_of(t, "%packages"), "curl"));
    for (std::optional<Role> role : {std::optional<Role>(Role::controller),
                                     std::optional<Role>(Role::compute), std::optional<Role>()}) {
        EXPECT_EQ(kickstart::render_kickstart(f->site(), secrets, role)
                      .find(kickstart::install_report_marker),
                  std::string::npos);
    }

    fs::path dir = fs::temp_directory_path() / ("airstrap-ks-report-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    auto written = kickstart::write_kickstarts(
        f->site(), secrets, dir, kickstart::KickstartSet::all, "http://10.0.2.2:8080/");
    ASSERT_EQ(written.size(), 7u);
    for (const auto& p : written) {
        std::string text = slurp(p);
        bool per_node = p.parent_path().filename() == kickstart::node_kickstart_dir;
        EXPECT_EQ(text.find(kickstart::install_report_marker) != std::string::npos, per_node) << p;
        if (!per_node) continue;
        std::string node = p.stem().string();
        EXPECT_TRUE(has_line(text, "key='" +
                                       crypto::to_hex(node::install_report_key(
                                           node::node_key(secrets.site_secret, node))) +
                                       "'"))
            << p;
        EXPECT_TRUE(has_line(text, "url='http://10.0.2.2:8080/'")) << p;
    }
    fs::remove_all(dir);
}

TEST(WriteKickstarts, FailureLeavesNoPartialOutput) {
    auto f = load(source_dir / "examples/lab3/site.yaml");
    fs::path dir = fs::temp_directory_path() / ("airstrap-ks-ro-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    // A regular file where the output folder should be: nothing can be written.
    std::ofstream(dir / "out") << "x";
    EXPECT_THROW(kickstart::write_kickstarts(f->site(), test_secrets(), dir / "out"), Error);
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++entries;
    EXPECT_EQ(entries, 1u);
    fs::remove_all(dir);
}

}  // namespace

TEST(SiteProfile, PicksEveryNodeAndWritesItsRolesPackages) {
    auto f = load(source_dir / "examples/lab3/site.yaml");
    std::string t = kickstart::render_kickstart(f->site(), test_secrets(), std::nullopt);
    for (const auto& n : f->site().nodes) {
        EXPECT_NE(t.find("\n" + n.name + ")\n    cat > /tmp/airstrap/node.ks"), std::string::npos)
            << n.name;
    }
    EXPECT_NE(t.find("%include /tmp/airstrap/packages.ks\n"), std::string::npos);
    // No line of the profile starts a section that is not one: %packages only via printf.
    for (const auto& line : text::split(t, '\n')) {
        EXPECT_FALSE(line.starts_with("%packages")) << line;
    }
    // The controller's branch asks for packstack; the compute node's drops libvirt's network.
    auto branch = [&](const std::string& node) {
        auto at = t.find("\n" + node + ")\n");
        return t.substr(at, t.find(";;", at) - at);
    };
    EXPECT_NE(branch("controller-node").find("'openstack-packstack'"), std::string::npos);
    EXPECT_EQ(branch("compute-node").find("'openstack-packstack'"), std::string::npos);
    EXPECT_NE(branch("compute-node").find("'-libvirt-daemon-config-network'"), std::string::npos);
    EXPECT_NE(t.find("not a node of site lab3"), std::string::npos);
}
