#include "firstboot/deploy_steps.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/text.hpp"
#include "deploy/answer_file.hpp"
#include "deploy/openstack.hpp"
#include "deploy/packstack_run.hpp"

namespace airstrap::firstboot {

using nlohmann::json;
namespace fs = std::filesystem;

node::DeployConfig load_deploy_config(const node::Paths& paths, const crypto::Bytes& site_secret) {
    if (!fs::exists(paths.deploy_config())) {
        throw Error(paths.deploy_config().string() +
                    " is missing: the controller's kickstart writes it (or `airstrap node-config "
                    "SITE --node CONTROLLER`); rebuild the controller's media");
    }
    return node::open_deploy_config(read_file(paths.deploy_config(), 4 << 20), site_secret);
}

namespace {

constexpr std::size_t max_answer_file = 4 << 20;

std::string output_tail(const std::string& output) {
    std::vector<std::string> lines = text::split(text::trim(output), '\n');
    std::size_t from = lines.size() > 3 ? lines.size() - 3 : 0;
    return text::join(
        std::vector<std::string>(lines.begin() + static_cast<std::ptrdiff_t>(from), lines.end()),
        " / ");
}

[[noreturn]] void packstack_missing() {
    throw Error(
        "packstack is not installed on the controller: the site repository must carry "
        "openstack-packstack (the controller's kickstart installs it)");
}

ProcessResult run_packstack(StepContext& ctx, const std::vector<std::string>& argv,
                            const RunOptions& options = {}) {
    try {
        ProcessResult r = ctx.runner.run(argv, options);
        if (r.exit_code == 127) packstack_missing();
        return r;
    } catch (const SystemError&) {
        packstack_missing();
    }
}

deploy::OpenStackClient admin_client(StepContext& ctx) {
    if (!fs::exists(ctx.paths.keystonerc())) {
        throw Error("/root/keystonerc_admin is missing: packstack writes it when it completes");
    }
    return deploy::OpenStackClient(
        ctx.runner, deploy::parse_keystonerc(read_file(ctx.paths.keystonerc(), 64 << 10)));
}

std::string str_field(const json& row, const char* key) {
    if (!row.is_object() || !row.contains(key)) return "";
    const json& v = row[key];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    return v.dump();
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

// A host as nova and neutron name it: the short name or the FQDN (hostname decides).
bool same_host(const node::Site& site, const node::Node& n, const std::string& host) {
    return host == n.name || host == site.fqdn(n);
}

class AppendFile {
  public:
    explicit AppendFile(const fs::path& path) {
        fs::create_directories(path.parent_path());
        fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd_ < 0) throw SystemError("open " + path.string(), errno);
    }
    AppendFile(const AppendFile&) = delete;
    AppendFile& operator=(const AppendFile&) = delete;
    ~AppendFile() { ::close(fd_); }
    void write(std::string_view s) {
        while (!s.empty()) {
            ssize_t n = ::write(fd_, s.data(), s.size());
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return;  // a full log disk must not stop the deployment
            s.remove_prefix(static_cast<std::size_t>(n));
        }
    }

  private:
    int fd_ = -1;
};

}  // namespace

std::string step_answers(StepContext& ctx, const node::DeployConfig& config,
                         const std::vector<std::string>& exclude) {
    const node::Paths& p = ctx.paths;
    std::string baseline, origin;
    bool kept = fs::exists(p.answer_file());
    if (kept) {
        baseline = read_file(p.answer_file(), max_answer_file);
        origin = p.answer_file().string();
    } else {
        fs::create_directories(p.state_dir());
        fs::remove(p.generated_answers());
        ProcessResult r = run_packstack(
            ctx, {"packstack", "--gen-answer-file=" + p.generated_answers().string()});
        if (r.exit_code != 0 || !fs::exists(p.generated_answers())) {
            throw Error("packstack --gen-answer-file failed (exit " + std::to_string(r.exit_code) +
                        "): " + output_tail(r.output));
        }
        // It holds generated service passwords.
        ::chmod(p.generated_answers().c_str(), 0600);
        baseline = read_file(p.generated_answers(), max_answer_file);
        origin = "packstack --gen-answer-file";
    }
    deploy::AnswerFile file = deploy::AnswerFile::parse(baseline, origin);
    std::vector<deploy::AnswerSetting> settings = config.answers;
    for (auto& s : settings) {
        if (s.key == "EXCLUDE_SERVERS") s.value = text::join(exclude, ",");
    }
    std::vector<std::string> changed = deploy::apply_settings(file, settings);
    fs::create_directories(p.answer_file().parent_path());
    write_file_atomic(p.answer_file(), file.render(), 0600);
    std::string out = "/root/airstrap-answers.txt (" + std::to_string(file.keys().size()) +
                      " keys): " + std::to_string(settings.size()) + " set from site.yaml, " +
                      std::to_string(changed.size()) + " changed" +
                      (kept ? ", kept from the last run" : ", from packstack --gen-answer-file");
    if (!exclude.empty()) out += "; EXCLUDE_SERVERS=" + text::join(exclude, ",");
    return out;
}

std::string step_packstack(StepContext& ctx) {
    const node::Paths& p = ctx.paths;
    AppendFile log(p.packstack_log());
    std::time_t now = std::time(nullptr);
    char when[64];
    std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S %Z", std::localtime(&now));
    log.write(
        std::string(
            "\n=== airstrap-firstboot: packstack --answer-file=/root/airstrap-answers.txt, ") +
        when + "\n");
    RunOptions options;
    options.on_output = [&log](std::string_view chunk) { log.write(chunk); };
    auto start = std::chrono::steady_clock::now();
    ProcessResult r =
        run_packstack(ctx, {"packstack", "--answer-file=" + p.answer_file().string()}, options);
    auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start)
            .count();
    log.write("=== exit " + std::to_string(r.exit_code) + " after " + std::to_string(seconds) +
              " s\n");
    deploy::PackstackReport report = deploy::read_packstack_output(r.output);
    if (r.exit_code != 0 || !report.completed) {
        std::map<std::string, std::string> hosts;
        for (const auto& n : ctx.id.site.nodes) hosts[ctx.id.site.address(n)] = n.name;
        throw Error(deploy::describe_packstack_failure(
            report, hosts, "/var/log/airstrap/packstack.log", r.exit_code));
    }
    return "packstack completed in " + std::to_string(seconds) + " s" +
           (report.setup_log.empty() ? "" : "; its log " + report.setup_log);
}

std::string step_verify_token(StepContext& ctx) {
    json token = admin_client(ctx).query({"token", "issue"});
    if (str_field(token, "id").empty()) throw Error("openstack token issue returned no token");
    return "token issued for the admin (expires " + str_field(token, "expires") + ")";
}

std::string step_verify_users(StepContext& ctx) {
    std::vector<std::string> users =
        deploy::OpenStackClient::names(admin_client(ctx).query({"user", "list"}));
    if (!contains(users, "admin")) throw Error("openstack user list has no admin");
    std::sort(users.begin(), users.end());
    return std::to_string(users.size()) + " users: " + text::join(users, ", ");
}

std::string step_verify_images(StepContext& ctx) {
    json rows = admin_client(ctx).query({"image", "list"});
    std::vector<std::string> bad;
    for (const auto& row : rows) {
        if (str_field(row, "Status") != "active")
            bad.push_back(str_field(row, "Name") + " (" + str_field(row, "Status") + ")");
    }
    if (!bad.empty()) throw Error("images not active: " + text::join(bad, ", "));
    return rows.empty() ? "the image service answers; no images yet"
                        : std::to_string(rows.size()) + " images, all active";
}

std::string step_verify_compute(StepContext& ctx) {
    const node::Site& site = ctx.id.site;
    json rows = admin_client(ctx).query({"compute", "service", "list"});
    std::vector<std::string> problems, up;
    for (const auto& n : site.nodes) {
        if (n.role != node::Role::compute) continue;
        const json* found = nullptr;
        for (const auto& row : rows) {
            if (str_field(row, "Binary") == "nova-compute" &&
                same_host(site, n, str_field(row, "Host")))
                found = &row;
        }
        if (!found) {
            problems.push_back(n.name + ": no nova-compute registered");
        } else if (str_field(*found, "State") != "up") {
            problems.push_back(n.name + ": nova-compute " + str_field(*found, "State"));
        } else if (str_field(*found, "Status") != "enabled") {
            problems.push_back(n.name + ": nova-compute " + str_field(*found, "Status"));
        } else {
            up.push_back(n.name);
        }
    }
    int others = 0;
    for (const auto& row : rows) {
        if (str_field(row, "Binary") == "nova-compute") continue;
        if (str_field(row, "State") != "up") {
            problems.push_back(str_field(row, "Binary") + " on " + str_field(row, "Host") + " " +
                               str_field(row, "State"));
        } else {
            ++others;
        }
    }
    if (!problems.empty()) throw Error(text::join(problems, "; "));
    return "nova-compute up on " + text::join(up, ", ") + "; " + std::to_string(others) +
           " other compute services up";
}

std::string step_verify_network(StepContext& ctx) {
    const node::Site& site = ctx.id.site;
    json rows = admin_client(ctx).query({"network", "agent", "list"});
    std::vector<std::string> problems;
    for (const auto& row : rows) {
        std::string alive = str_field(row, "Alive"), state = str_field(row, "State");
        bool is_alive = alive == "true" || alive == ":-)";
        bool is_up = state == "true" || state == "UP" || state.empty();
        if (!is_alive || !is_up) {
            problems.push_back(str_field(row, "Agent Type") + " on " + str_field(row, "Host") +
                               (is_alive ? " administratively down" : " not alive"));
        }
    }
    // The network nodes route the external network: L3 agent (OVS) or gateway chassis (OVN).
    std::string router =
        site.openstack.l2_agent == "ovn" ? "OVN Controller Gateway agent" : "L3 agent";
    for (const auto& n : site.nodes) {
        if (n.role != node::Role::network) continue;
        bool found = false;
        for (const auto& row : rows) {
            found = found || (str_field(row, "Agent Type") == router &&
                              same_host(site, n, str_field(row, "Host")));
        }
        if (!found) problems.push_back(n.name + ": no " + router);
    }
    if (!problems.empty()) throw Error(text::join(problems, "; "));
    return std::to_string(rows.size()) + " network agents alive";
}

std::string step_day1(StepContext& ctx, const node::DeployConfig& config) {
    const node::Cloud& cloud = ctx.id.site.cloud;
    if (cloud.empty()) return "site.yaml has no cloud: section; nothing to create";
    deploy::OpenStackClient os = admin_client(ctx);
    using deploy::OpenStackClient;
    std::vector<std::string> made;
    auto visibility = [](bool is_public) { return is_public ? "--public" : "--private"; };

    if (!cloud.projects.empty()) {
        auto have = OpenStackClient::names(os.query({"project", "list"}));
        for (const auto& p : cloud.projects) {
            if (contains(have, p.name)) continue;
            os.change({"project", "create", "--description", p.description, p.name});
            made.push_back("project " + p.name);
        }
    }
    if (!cloud.users.empty()) {
        auto have = OpenStackClient::names(os.query({"user", "list"}));
        for (const auto& u : cloud.users) {
            if (!contains(have, u.name)) {
                auto pw = config.user_passwords.find(u.name);
                if (pw == config.user_passwords.end())
                    throw Error("no password for cloud user " + u.name +
                                " in deploy.sealed: add passwords.users." + u.name +
                                " to secrets.yaml and rebuild the controller's media");
                // Typed at the client's prompt: a password never goes into an argv.
                os.change({"user", "create", "--project", u.project, "--password-prompt", u.name},
                          pw->second + "\n" + pw->second + "\n");
                made.push_back("user " + u.name);
            }
            json roles = os.query({"role", "assignment", "list", "--user", u.name, "--project",
                                   u.project, "--names"});
            bool has_role = false;
            for (const auto& row : roles) has_role = has_role || str_field(row, "Role") == u.role;
            if (!has_role) {
                os.change({"role", "add", "--project", u.project, "--user", u.name, u.role});
                made.push_back("role " + u.role + " for " + u.name + " on " + u.project);
            }
        }
    }
    if (!cloud.flavors.empty()) {
        auto have = OpenStackClient::names(os.query({"flavor", "list", "--all"}));
        for (const auto& f : cloud.flavors) {
            if (contains(have, f.name)) continue;
            os.change({"flavor", "create", "--vcpus", std::to_string(f.vcpus), "--ram",
                       std::to_string(f.ram), "--disk", std::to_string(f.disk),
                       visibility(f.is_public), f.name});
            made.push_back("flavor " + f.name);
        }
    }
    if (!cloud.images.empty()) {
        auto have = OpenStackClient::names(os.query({"image", "list"}));
        for (const auto& i : cloud.images) {
            if (contains(have, i.name)) continue;
            fs::path file = ctx.paths.repository() / i.file;
            if (!fs::exists(file)) {
                throw Error("image " + i.name + ": /opt/airstrap/repo/" + i.file +
                            " is not in the site repository (airstrap mirror copies "
                            "cloud.images into it)");
            }
            os.change({"image", "create", "--disk-format", i.disk_format, "--container-format",
                       i.container_format, visibility(i.is_public), "--file", file.string(),
                       i.name});
            made.push_back("image " + i.name);
        }
    }
    if (cloud.external_network || !cloud.networks.empty()) {
        auto networks = OpenStackClient::names(os.query({"network", "list"}));
        auto subnets = OpenStackClient::names(os.query({"subnet", "list"}));
        // The external subnet: no DHCP, its gateway or none, its pools; a tenant subnet:
        // its project, its gateway or Neutron's choice.
        auto subnet_args = [](const auto& n, std::vector<std::string> specific) {
            std::vector<std::string> a{"subnet", "create",         "--network",
                                       n.name,   "--subnet-range", n.cidr};
            a.insert(a.end(), specific.begin(), specific.end());
            for (const auto& d : n.dns) a.insert(a.end(), {"--dns-nameserver", d});
            a.push_back(n.subnet);
            return a;
        };
        auto external_specific = [](const node::CloudExternalNetwork& n) {
            std::vector<std::string> a{"--no-dhcp", "--gateway",
                                       n.gateway.empty() ? "none" : n.gateway};
            for (const auto& pool : n.allocation_pools)
                a.insert(a.end(),
                         {"--allocation-pool", "start=" + pool.start + ",end=" + pool.end});
            return a;
        };
        auto tenant_specific = [](const node::CloudNetwork& n) {
            std::vector<std::string> a{"--project", n.project};
            if (!n.gateway.empty()) a.insert(a.end(), {"--gateway", n.gateway});
            return a;
        };
        if (const auto& ext = cloud.external_network) {
            if (!contains(networks, ext->name)) {
                os.change({"network", "create", "--external", "--provider-network-type", "flat",
                           "--provider-physical-network", ext->physical_network, ext->name});
                made.push_back("external network " + ext->name);
            }
            if (!contains(subnets, ext->subnet)) {
                os.change(subnet_args(*ext, external_specific(*ext)));
                made.push_back("subnet " + ext->subnet);
            }
        }
        for (const auto& n : cloud.networks) {
            if (!contains(networks, n.name)) {
                os.change({"network", "create", "--project", n.project, n.name});
                made.push_back("network " + n.name);
            }
            if (!contains(subnets, n.subnet)) {
                os.change(subnet_args(n, tenant_specific(n)));
                made.push_back("subnet " + n.subnet);
            }
        }
    }
    if (!cloud.routers.empty()) {
        std::map<std::string, std::string> subnet_ids;
        for (const auto& row : os.query({"subnet", "list"}))
            subnet_ids[str_field(row, "Name")] = str_field(row, "ID");
        auto have = OpenStackClient::names(os.query({"router", "list"}));
        for (const auto& r : cloud.routers) {
            if (!contains(have, r.name)) {
                os.change({"router", "create", "--project", r.project, r.name});
                made.push_back("router " + r.name);
            }
            json show = os.query({"router", "show", r.name});
            if (r.external_gateway && cloud.external_network &&
                (!show.contains("external_gateway_info") ||
                 show["external_gateway_info"].is_null() ||
                 show["external_gateway_info"].empty())) {
                os.change(
                    {"router", "set", "--external-gateway", cloud.external_network->name, r.name});
                made.push_back("gateway of " + r.name);
            }
            std::vector<std::string> attached;
            if (show.contains("interfaces_info") && show["interfaces_info"].is_array()) {
                for (const auto& i : show["interfaces_info"])
                    attached.push_back(str_field(i, "subnet_id"));
            }
            for (const auto& s : r.subnets) {
                auto id = subnet_ids.find(s);
                if (id != subnet_ids.end() && contains(attached, id->second)) continue;
                os.change({"router", "add", "subnet", r.name, s});
                made.push_back(s + " on " + r.name);
            }
        }
    }
    if (made.empty()) return "everything in site.yaml's cloud: exists; nothing created";
    return "created " + text::join(made, ", ");
}

}  // namespace airstrap::firstboot
