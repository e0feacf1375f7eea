// What packstack prints: the seed's successful run, and failures as packstack reports them.
#include "deploy/packstack_run.hpp"

#include <gtest/gtest.h>

using namespace airstrap;

TEST(PackstackOutput, TheSeedsRunCompleted) {
    auto r = deploy::read_packstack_output(
        "Welcome to the Packstack setup utility\n\n"
        "The installation log file is available at: "
        "/var/tmp/packstack/20200212-215140-HVEDaW/openstack-setup.log\n\n"
        "Installing:\nClean Up [ DONE ]\n"
        "Applying 192.168.111.12_compute.pp\n192.168.111.12_compute.pp: [ DONE ]\n"
        "Applying Puppet manifests [ DONE ]\nFinalizing [ DONE ]\n\n"
        " **** Installation completed successfully ******\n");
    EXPECT_TRUE(r.completed);
    EXPECT_EQ(r.setup_log, "/var/tmp/packstack/20200212-215140-HVEDaW/openstack-setup.log");
    EXPECT_EQ(r.failed_manifest, "");
}

TEST(PackstackOutput, AColouredPuppetFailureNamesManifestErrorAndLogs) {
    // As packstack prints it on a terminal (a CI log of a real run).
    auto r = deploy::read_packstack_output(
        "Applying 172.19.3.114_controller.pp\n"
        "\r172.19.3.114_controller.pp:                       [ \x1b[0;31mERROR\x1b[0m ]\n"
        "Applying Puppet manifests                         [ \x1b[0;31mERROR\x1b[0m ]\n\n"
        "\x1b[0;31mERROR : Error appeared during Puppet run: 172.19.3.114_controller.pp\n"
        "Error: Invalid parameter keystone_auth_uri on Class[Ceilometer::Api]\n"
        "You will find full trace in log "
        "/var/tmp/packstack/20160825-070519-QNNyZl/manifests/"
        "172.19.3.114_controller.pp.log\x1b[0m\n"
        "Please check log file /var/tmp/packstack/20160825-070519-QNNyZl/openstack-setup.log for "
        "more information\n");
    EXPECT_FALSE(r.completed);
    EXPECT_EQ(r.failed_manifest, "172.19.3.114_controller.pp");
    EXPECT_EQ(r.error, "Error: Invalid parameter keystone_auth_uri on Class[Ceilometer::Api]");
    EXPECT_EQ(r.trace_log,
              "/var/tmp/packstack/20160825-070519-QNNyZl/manifests/172.19.3.114_controller.pp.log");
    EXPECT_EQ(r.setup_log, "/var/tmp/packstack/20160825-070519-QNNyZl/openstack-setup.log");
    EXPECT_EQ(deploy::describe_packstack_failure(r, {{"172.19.3.114", "controller-node"}},
                                                 "/var/log/airstrap/packstack.log", 1),
              "packstack failed (exit 1) applying 172.19.3.114_controller.pp on controller-node: "
              "Error: Invalid parameter keystone_auth_uri on Class[Ceilometer::Api]; full trace in "
              "/var/tmp/packstack/20160825-070519-QNNyZl/manifests/172.19.3.114_controller.pp.log; "
              "packstack's log /var/tmp/packstack/20160825-070519-QNNyZl/openstack-setup.log; its "
              "output in /var/log/airstrap/packstack.log");
}

TEST(PackstackOutput, PackstacksOwnErrorsBeforeAnyManifest) {
    auto r = deploy::read_packstack_output(
        "Welcome to the Packstack setup utility\n"
        "ERROR : Failed to load plugin from file ssl_001.py\n");
    EXPECT_EQ(r.error, "Failed to load plugin from file ssl_001.py");
    EXPECT_EQ(deploy::describe_packstack_failure(r, {}, "/x.log", 1),
              "packstack failed (exit 1): Failed to load plugin from file ssl_001.py; its output "
              "in /x.log");
}

TEST(Keystonerc, OnlyOsVariablesUnquoted) {
    auto env = deploy::parse_keystonerc(
        "unset OS_SERVICE_TOKEN\n"
        "    export OS_USERNAME=admin\n"
        "    export OS_PASSWORD='s3cr=t pw'\n"
        "    export OS_AUTH_URL=http://192.168.111.10:5000/v3\n"
        "    export PS1='[\\u@\\h \\W(keystone_admin)]\\$ '\n"
        "export OS_PROJECT_NAME=\"admin\"\n"
        "export LD_PRELOAD=/evil.so\n");
    EXPECT_EQ(env,
              (std::map<std::string, std::string>{{"OS_USERNAME", "admin"},
                                                  {"OS_PASSWORD", "s3cr=t pw"},
                                                  {"OS_AUTH_URL", "http://192.168.111.10:5000/v3"},
                                                  {"OS_PROJECT_NAME", "admin"}}));
}
