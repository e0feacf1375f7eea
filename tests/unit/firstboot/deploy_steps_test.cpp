// The controller's deployment steps in a sandbox root with the recording runner answering as
// packstack and the OpenStack client would: exact commands, files and modes, the failure
// texts, credentials only in the environment, passwords only at the terminal, idempotence.
#include "firstboot/deploy_steps.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.hpp"
#include "site/site_file.hpp"
#include "site/site_json.hpp"
#include "tests/unit/firstboot/fake_runner.hpp"
#include "tests/unit/test_support.hpp"

namespace fs = std::filesystem;
using namespace airstrap;
using namespace airstrap::firstboot;
using airstrap::firstboot::testing::FakeRunner;
using airstrap::testutil::message_of;
using airstrap::testutil::put;
using airstrap::testutil::slurp;

namespace {

node::Site lab3() {
    auto file = site::SiteFile::from_text("site.yaml", testutil::lab3_text(),
                                          testutil::lab3_path().parent_path());
    EXPECT_TRUE(file->ok()) << file->diag().render();
    return node::parse_site_json(
        node::site_json_text(site::node_site(file->site(), airstrap::crypto::Bytes(32, 0x42))));
}

const char* generated =
    "[general]\n\n"
    "# Specify 'y' to install OpenStack Object Storage (swift).\n"
    "CONFIG_SWIFT_INSTALL=y\n\n"
    "# Server on which to install OpenStack services specific to the controller role.\n"
    "CONFIG_CONTROLLER_HOST=10.0.0.5\n\n"
    "CONFIG_KEYSTONE_ADMIN_PW=4f1e0a9b2c\n\n"
    "CONFIG_NOVA_DB_PW=9d8c7b6a5f\n\n"
    "EXCLUDE_SERVERS=\n";

const char* keystonerc =
    "unset OS_SERVICE_TOKEN\n"
    "    export OS_USERNAME=admin\n"
    "    export OS_PASSWORD='admin-pw'\n"
    "    export OS_AUTH_URL=http://192.168.111.10:5000/v3\n"
    "    export PS1='[\\u@\\h \\W(keystone_admin)]\\$ '\n"
    "export OS_PROJECT_NAME=admin\n";

class DeploySteps : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "airstrap-deploy-XXXXXX").string();
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        paths.root = tmpl;
        id.site = lab3();
        id.site_secret = crypto::Bytes(32, 0x11);
        id.node = "controller-node";
        config.answers = {
            {"CONFIG_SWIFT_INSTALL", "n", "site.yaml openstack.services.swift", false},
            {"CONFIG_CONTROLLER_HOST", "192.168.111.10", "the controller", false},
            {"CONFIG_KEYSTONE_ADMIN_PW", "admin-pw", "secrets.yaml", true},
            {"EXCLUDE_SERVERS", "", "every node", false},
        };
        config.user_passwords = {{"uat", "uat-secret-pw"}};
        // `packstack --gen-answer-file=FILE` writes FILE.
        runner.on("packstack", 0, "", [](const std::vector<std::string>& argv) {
            const std::string opt = "--gen-answer-file=";
            if (argv.size() == 2 && argv[1].rfind(opt, 0) == 0)
                put(argv[1].substr(opt.size()), generated);
        });
    }
    void TearDown() override { fs::remove_all(paths.root); }

    StepContext ctx() { return StepContext{id, paths, runner}; }

    node::Paths paths;
    node::Identity id;
    FakeRunner runner;
    node::DeployConfig config;
};

}  // namespace

TEST_F(DeploySteps, AnswersStartFromPackstacksFileAndSetKeysOnly) {
    auto c = ctx();
    EXPECT_EQ(step_answers(c, config, {}),
              "/root/airstrap-answers.txt (5 keys): 4 set from site.yaml, 3 changed, from "
              "packstack --gen-answer-file");
    std::string expected = generated;
    auto swap = [&](const std::string& from, const std::string& to) {
        expected.replace(expected.find(from), from.size(), to);
    };
    swap("CONFIG_SWIFT_INSTALL=y", "CONFIG_SWIFT_INSTALL=n");
    swap("CONFIG_CONTROLLER_HOST=10.0.0.5", "CONFIG_CONTROLLER_HOST=192.168.111.10");
    swap("CONFIG_KEYSTONE_ADMIN_PW=4f1e0a9b2c", "CONFIG_KEYSTONE_ADMIN_PW=admin-pw");
    EXPECT_EQ(slurp(paths.answer_file()), expected);
    struct stat st {};
    ASSERT_EQ(::stat(paths.answer_file().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat(paths.generated_answers().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(runner.commands(), std::vector<std::string>{"packstack --gen-answer-file=" +
                                                          paths.generated_answers().string()});

    // A redeployment keeps the file (and packstack's generated passwords), excluding others.
    EXPECT_EQ(step_answers(c, config, {"192.168.111.10", "192.168.111.11"}),
              "/root/airstrap-answers.txt (5 keys): 4 set from site.yaml, 1 changed, kept from "
              "the last run; EXCLUDE_SERVERS=192.168.111.10,192.168.111.11");
    EXPECT_EQ(runner.calls.size(), 1u);
    EXPECT_NE(slurp(paths.answer_file()).find("\nCONFIG_NOVA_DB_PW=9d8c7b6a5f\n"),
              std::string::npos);
    EXPECT_NE(slurp(paths.answer_file()).find("\nEXCLUDE_SERVERS=192.168.111.10,192.168.111.11\n"),
              std::string::npos);
}

TEST_F(DeploySteps, AnswersSayWhatIsWrong) {
    auto c = ctx();
    runner.on("packstack", 127, "hook: 'packstack' is not modelled");
    EXPECT_EQ(message_of([&] { step_answers(c, config, {}); }),
              "packstack is not installed on the controller: the site repository must carry "
              "openstack-packstack (the controller's kickstart installs it)");
    EXPECT_FALSE(fs::exists(paths.answer_file()));
    runner.on("packstack", 0);  // generates a file without the key below
    runner.on("packstack", 0, "", [](const std::vector<std::string>& argv) {
        put(argv[1].substr(18), "[general]\nCONFIG_SWIFT_INSTALL=y\n");
    });
    EXPECT_EQ(message_of([&] { step_answers(c, config, {}); }),
              "this packstack's answer file has no CONFIG_CONTROLLER_HOST (from the controller), "
              "CONFIG_KEYSTONE_ADMIN_PW (from secrets.yaml), EXCLUDE_SERVERS (from every node): "
              "is openstack.release in site.yaml the release the site repository carries?");
    EXPECT_FALSE(fs::exists(paths.answer_file()));
}

TEST_F(DeploySteps, PackstackOutputGoesToTheLogAndFailuresNameTheManifest) {
    auto c = ctx();
    put(paths.answer_file(), generated);
    runner.on("packstack", 0,
              "Welcome to the Packstack setup utility\n\nThe installation log file is available "
              "at: /var/tmp/packstack/20260101-000000-abcdef/openstack-setup.log\n"
              " **** Installation completed successfully ******\n");
    std::string detail = step_packstack(c);
    EXPECT_EQ(detail.rfind("packstack completed in ", 0), 0u) << detail;
    EXPECT_NE(
        detail.find("; its log /var/tmp/packstack/20260101-000000-abcdef/openstack-setup.log"),
        std::string::npos);
    EXPECT_EQ(runner.commands().back(), "packstack --answer-file=" + paths.answer_file().string());
    std::string log = slurp(paths.packstack_log());
    EXPECT_NE(log.find("Welcome to the Packstack setup utility"), std::string::npos);
    EXPECT_NE(log.find("=== exit 0 after "), std::string::npos);

    runner.on(
        "packstack", 1,
        "Applying 192.168.111.11_network.pp\n"
        "192.168.111.11_network.pp:                     [ ERROR ]\n"
        "ERROR : Error appeared during Puppet run: 192.168.111.11_network.pp\n"
        "Error: Execution of '/usr/bin/yum -d 0 -e 0 -y install openstack-neutron' returned 1\n"
        "You will find full trace in log "
        "/var/tmp/packstack/x/manifests/192.168.111.11_network.pp.log\n");
    EXPECT_EQ(
        message_of([&] { step_packstack(c); }),
        "packstack failed (exit 1) applying 192.168.111.11_network.pp on network-node: Error: "
        "Execution of '/usr/bin/yum -d 0 -e 0 -y install openstack-neutron' returned 1; full "
        "trace in /var/tmp/packstack/x/manifests/192.168.111.11_network.pp.log; its output in "
        "/var/log/airstrap/packstack.log");
    // Both runs are in the log, one after the other.
    EXPECT_NE(slurp(paths.packstack_log()).find("=== exit 1 after "), std::string::npos);
}

TEST_F(DeploySteps, ChecksUseTheAdminCredentialsInTheEnvironment) {
    auto c = ctx();
    EXPECT_EQ(message_of([&] { step_verify_token(c); }),
              "/root/keystonerc_admin is missing: packstack writes it when it completes");
    put(paths.keystonerc(), keystonerc);
    runner.on(
        "openstack token issue", 0,
        R"({"expires": "2026-11-27T02:00:00+0000", "id": "gAAAA", "project_id": "p", "user_id": "u"})");
    EXPECT_EQ(step_verify_token(c),
              "token issued for the admin (expires 2026-11-27T02:00:00+0000)");
    EXPECT_EQ(runner.commands().back(), "openstack token issue -f json");
    std::vector<std::pair<std::string, std::string>> env = runner.environments.back();
    std::sort(env.begin(), env.end());
    EXPECT_EQ(env, (std::vector<std::pair<std::string, std::string>>{
                       {"OS_AUTH_URL", "http://192.168.111.10:5000/v3"},
                       {"OS_PASSWORD", "admin-pw"},
                       {"OS_PROJECT_NAME", "admin"},
                       {"OS_USERNAME", "admin"}}));

    runner.on(
        "openstack user list", 0,
        R"([{"ID": "1", "Name": "nova"}, {"ID": "2", "Name": "admin"}, {"ID": "3", "Name": "glance"}])");
    EXPECT_EQ(step_verify_users(c), "3 users: admin, glance, nova");
    runner.on("openstack image list", 0, R"([{"ID": "1", "Name": "cirros", "Status": "queued"}])");
    EXPECT_EQ(message_of([&] { step_verify_images(c); }), "images not active: cirros (queued)");
    runner.on("openstack image list", 0, "[]");
    EXPECT_EQ(step_verify_images(c), "the image service answers; no images yet");
}

TEST_F(DeploySteps, ComputeAndNetworkChecks) {
    auto c = ctx();
    put(paths.keystonerc(), keystonerc);
    const std::string services =
        R"([{"Binary": "nova-conductor", "Host": "controller-node", "Status": "enabled", "State": "up"},
            {"Binary": "nova-scheduler", "Host": "controller-node", "Status": "enabled", "State": "up"},
            {"Binary": "nova-compute", "Host": "compute-node.lab.local", "Status": "enabled", "State": "%s"}])";
    auto with = [&](const std::string& state) {
        std::string s = services;
        s.replace(s.find("%s"), 2, state);
        return s;
    };
    runner.on("openstack compute service list", 0, with("up"));
    EXPECT_EQ(step_verify_compute(c),
              "nova-compute up on compute-node; 2 other compute services up");
    runner.on("openstack compute service list", 0, with("down"));
    EXPECT_EQ(message_of([&] { step_verify_compute(c); }), "compute-node: nova-compute down");
    runner.on("openstack compute service list", 0, "[]");
    EXPECT_EQ(message_of([&] { step_verify_compute(c); }),
              "compute-node: no nova-compute registered");

    runner.on(
        "openstack network agent list", 0,
        R"json([{"Agent Type": "L3 agent", "Host": "network-node", "Alive": true, "State": true},
                  {"Agent Type": "Open vSwitch agent", "Host": "compute-node", "Alive": ":-)", "State": "UP"}])json");
    EXPECT_EQ(step_verify_network(c), "2 network agents alive");
    runner.on(
        "openstack network agent list", 0,
        R"([{"Agent Type": "DHCP agent", "Host": "network-node", "Alive": false, "State": true}])");
    EXPECT_EQ(message_of([&] { step_verify_network(c); }),
              "DHCP agent on network-node not alive; network-node: no L3 agent");
}

TEST_F(DeploySteps, DayOneCreatesWhatIsMissingAndNothingTheSecondTime) {
    auto c = ctx();
    put(paths.keystonerc(), keystonerc);
    const auto& cloud = id.site.cloud;
    ASSERT_FALSE(cloud.empty()) << "examples/lab3 has a cloud: section";
    ASSERT_FALSE(cloud.images.empty());
    put(paths.repository() / cloud.images[0].file, "qcow2 stand-in");
    for (const char* list : {"project list", "user list", "flavor list --all", "image list",
                             "network list", "subnet list", "router list"})
        runner.on(std::string("openstack ") + list, 0, "[]");
    runner.on("openstack role assignment list", 0, "[]");
    runner.on(
        "openstack router show", 0,
        R"({"name": "uat_network_router", "external_gateway_info": null, "interfaces_info": []})");
    std::string detail = step_day1(c, config);
    EXPECT_EQ(detail.rfind("created ", 0), 0u) << detail;
    std::vector<std::string> changes;
    for (const auto& cmd : runner.commands()) {
        if (cmd.find(" -f json") == std::string::npos) changes.push_back(cmd);
    }
    // The password is typed at the prompt, never in argv.
    for (const auto& cmd : runner.commands())
        EXPECT_EQ(cmd.find("uat-secret-pw"), std::string::npos) << cmd;
    bool typed = false;
    for (std::size_t i = 0; i < runner.inputs.size(); ++i) {
        if (runner.inputs[i] == "uat-secret-pw\nuat-secret-pw\n") typed = runner.terminal[i];
    }
    EXPECT_TRUE(typed);
    auto has = [&](const std::string& prefix) {
        return std::any_of(changes.begin(), changes.end(),
                           [&](const std::string& change) { return change.rfind(prefix, 0) == 0; });
    };
    EXPECT_TRUE(has("openstack project create --description"));
    EXPECT_TRUE(has("openstack user create --project uat --password-prompt uat"));
    EXPECT_TRUE(has("openstack role add --project uat --user uat _member_"));
    EXPECT_TRUE(has("openstack flavor create --vcpus 1 --ram 128 --disk 1 --public m1.nano"));
    EXPECT_TRUE(
        has("openstack image create --disk-format qcow2 --container-format bare --public --file " +
            (paths.repository() / cloud.images[0].file).string() + " cirros-0.3.4-x86_64"));
    EXPECT_TRUE(
        has("openstack network create --external --provider-network-type flat "
            "--provider-physical-network extnet external_network"));
    EXPECT_TRUE(
        has("openstack subnet create --network external_network --subnet-range "
            "192.168.222.0/24 --no-dhcp"));
    EXPECT_TRUE(has("openstack router set --external-gateway external_network uat_network_router"));
    EXPECT_TRUE(has("openstack router add subnet uat_network_router uat_network_subnet"));

    // Everything exists now: only reads.
    runner.calls.clear();
    runner.on("openstack project list", 0, R"([{"ID": "p", "Name": "uat"}])");
    runner.on("openstack user list", 0, R"([{"ID": "u", "Name": "uat"}])");
    runner.on("openstack role assignment list", 0,
              R"([{"Role": "_member_", "User": "uat@Default"}])");
    runner.on("openstack flavor list --all", 0, R"([{"ID": "f", "Name": "m1.nano"}])");
    runner.on("openstack image list", 0, R"([{"ID": "i", "Name": "cirros-0.3.4-x86_64"}])");
    runner.on("openstack network list", 0,
              R"([{"ID": "n1", "Name": "external_network"}, {"ID": "n2", "Name": "uat_network"}])");
    runner.on(
        "openstack subnet list", 0,
        R"([{"ID": "s1", "Name": "external_subnet"}, {"ID": "s2", "Name": "uat_network_subnet"}])");
    runner.on("openstack router list", 0, R"([{"ID": "r", "Name": "uat_network_router"}])");
    runner.on(
        "openstack router show", 0,
        R"({"external_gateway_info": {"network_id": "n1"}, "interfaces_info": [{"subnet_id": "s2"}]})");
    EXPECT_EQ(step_day1(c, config), "everything in site.yaml's cloud: exists; nothing created");
    for (const auto& cmd : runner.commands())
        EXPECT_NE(cmd.find(" -f json"), std::string::npos) << cmd;
}

TEST_F(DeploySteps, DayOneImageMustBeInTheRepository) {
    auto c = ctx();
    put(paths.keystonerc(), keystonerc);
    runner.on("openstack", 0, "[]");
    runner.on("openstack router show", 0,
              R"({"external_gateway_info": null, "interfaces_info": []})");
    std::string why = message_of([&] { step_day1(c, config); });
    EXPECT_NE(
        why.find("is not in the site repository (airstrap mirror copies cloud.images into it)"),
        std::string::npos)
        << why;
}
