// The controller's deployment, after every node is enrolled and reachable over SSH: the
// Packstack answer file, the packstack run, the seed's health checks and the day-1 resources
// of site.yaml's cloud: section. Same rules as steps.hpp: idempotent, files under node::Paths,
// commands through the CommandRunner, one line back or an Error saying what to do.
#pragma once

#include <string>
#include <vector>

#include "firstboot/steps.hpp"
#include "node/deploy_config.hpp"

namespace airstrap::firstboot {

// /etc/airstrap/deploy.sealed (0600), opened with the site secret, strictly parsed.
node::DeployConfig load_deploy_config(const node::Paths& paths, const crypto::Bytes& site_secret);

// The answer file /root/airstrap-answers.txt (0600): `packstack --gen-answer-file` the first
// time (every key and comment of this release kept), the site's settings applied by key, and
// EXCLUDE_SERVERS set to `exclude` (the nodes a redeployment leaves alone). Once written, a
// re-run keeps it and its generated passwords: packstack's supported way to run again.
std::string step_answers(StepContext& ctx, const node::DeployConfig& config,
                         const std::vector<std::string>& exclude);

// `packstack --answer-file=…`, its output appended to /var/log/airstrap/packstack.log as it
// comes; on failure the failing manifest, its node, the error and the logs to read.
std::string step_packstack(StepContext& ctx);

// The seed's checks with the admin credentials packstack wrote (/root/keystonerc_admin).
std::string step_verify_token(StepContext& ctx);
std::string step_verify_users(StepContext& ctx);
std::string step_verify_images(StepContext& ctx);
// nova-compute up and enabled on every compute node; no service down.
std::string step_verify_compute(StepContext& ctx);
// Every network agent alive; the network nodes run the L3 (OVS) or gateway (OVN) agent.
std::string step_verify_network(StepContext& ctx);

// site.yaml's cloud: projects, users (passwords typed at the client's prompt, never in
// argv), flavors, images from the site repository, the external network and subnet, tenant
// networks, routers. Creates what is missing, never changes or deletes what exists.
std::string step_day1(StepContext& ctx, const node::DeployConfig& config);

}  // namespace airstrap::firstboot
