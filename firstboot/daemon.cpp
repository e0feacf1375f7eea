#include "firstboot/daemon.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/subprocess.hpp"
#include "common/text.hpp"
#include "firstboot/cabling.hpp"
#include "firstboot/deploy_steps.hpp"
#include "firstboot/enrol.hpp"
#include "firstboot/journal.hpp"
#include "firstboot/log.hpp"
#include "firstboot/node_files.hpp"
#include "firstboot/site_state.hpp"
#include "firstboot/state_file.hpp"
#include "firstboot/steps.hpp"

namespace airstrap::firstboot {

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// In the sandbox the hook decides what each system command really does (and records it).
class HookRunner : public CommandRunner {
  public:
    explicit HookRunner(std::string hook) : hook_(std::move(hook)) {}
    ProcessResult run(const std::vector<std::string>& argv) override {
        std::vector<std::string> full{hook_};
        full.insert(full.end(), argv.begin(), argv.end());
        return inner_.run(full);
    }
    ProcessResult run(const std::vector<std::string>& argv, const RunOptions& options) override {
        std::vector<std::string> full{hook_};
        full.insert(full.end(), argv.begin(), argv.end());
        return inner_.run(full, options);
    }

  private:
    std::string hook_;
    SystemCommandRunner inner_;
};

bool is_controller(const node::Node& n) {
    return n.role == node::Role::controller;
}

class Daemon {
  public:
    Daemon(const DaemonOptions& o, const std::atomic<bool>& stop, node::Identity id)
        : opt_(o),
          stop_(stop),
          id_(std::move(id)),
          self_(*id_.site.node(id_.node)),
          log_(o.paths.log_file(), id_.node),
          journal_(o.paths.journal(), plan_for(id_.site, self_)) {
        if (o.exec_hook.empty()) {
            runner_ = std::make_unique<SystemCommandRunner>();
        } else {
            runner_ = std::make_unique<HookRunner>(o.exec_hook);
        }
        ctx_ = std::make_unique<StepContext>(StepContext{id_, opt_.paths, *runner_});
        // chronyc is cheap: check the sync often, whatever the retry interval.
        ctx_->poll = std::min(opt_.poll, std::chrono::milliseconds(250));
    }

    int run() {
        if (!opt_.rerun.empty()) journal_.reset_from(opt_.rerun);
        log_.info("starting as the " + std::string(to_string(self_.role)) + " of site " +
                  id_.site.site.name + " (" + id_.site.address(self_) + ")");
        bool ok = run_steps();
        if (ok && !is_controller(self_)) report();
        if (!ok) return stop_ ? 0 : 1;
        log_.info("all steps done: sessions=" + std::to_string(traffic_.sessions) + " frames=" +
                  std::to_string(traffic_.frames) + " beacons=" + std::to_string(traffic_.beacons));
        if (opt_.exit_when_done) {
            if (state_) state_->flush();
            return 0;
        }
        return is_controller(self_) ? controller_quiet() : node_quiet();
    }

    // The names of the steps `node` runs, in order: its journal's plan.
    static std::vector<std::string> plan(const node::Site& site, const node::Node& node) {
        std::vector<std::string> names;
        for (const Step& s : steps_for(node)) {
            if (s.applies(site, node)) names.push_back(s.name);
        }
        return names;
    }

  private:
    // One step of a plan: its journal name, which nodes of the role run it, what it does,
    // how often it may fail before it stays failed (0: retried until done), and what runs
    // once it is done, now or before a restart (false stops the plan: the daemon stops).
    // The same table gives the journal its plan and the daemon its work.
    struct Step {
        const char* name;
        bool (*applies)(const node::Site&, const node::Node&);
        std::string (*run)(Daemon&);
        int attempts = 0;
        bool (*then)(Daemon&) = nullptr;
    };
    static const std::vector<Step>& controller_steps();
    static const std::vector<Step>& node_steps();
    static const std::vector<Step>& steps_for(const node::Node& n) {
        return is_controller(n) ? controller_steps() : node_steps();
    }

    // This node's plan, from the first step its journal does not have done.
    bool run_steps() {
        for (const Step& s : steps_for(self_)) {
            if (!s.applies(id_.site, self_)) continue;
            if (!step(
                    s.name, [&] { return s.run(*this); }, s.attempts))
                return false;
            if (s.then && !s.then(*this)) return false;
        }
        return true;
    }

    // Runs `fn` as step `name` unless the journal has it done; retries with backoff until it
    // succeeds or the daemon is stopped. Returns false only when stopped. A step that must not
    // loop (packstack: half an hour a run) gives up after `attempts` and stays failed, the
    // daemon still serving the nodes, until it is restarted.
    bool step(const std::string& name, const std::function<std::string()>& fn, int attempts = 0) {
        if (journal_.done(name)) return true;
        auto backoff = opt_.poll;
        std::string last_failure;
        int tried = 0;
        while (!stop_) {
            if (attempts > 0 && tried++ == attempts) {
                log_.warn(name + " failed " + std::to_string(attempts) +
                          " times; fix the cause (airstrap status says why) and restart "
                          "airstrap-firstboot to run it again");
                while (!stop_) sleep(std::chrono::milliseconds(1000));
                return false;
            }
            journal_.start(name);
            try {
                std::string detail = fn();
                journal_.finish(name, detail);
                log_.info(name + ": " + detail);
                report();
                return true;
            } catch (const std::exception& e) {
                std::string why = describe(e);
                journal_.fail(name, why);
                if (why != last_failure) {
                    log_.warn(name + " failed: " + why + " (retrying)");
                    last_failure = why;
                    report();
                }
            }
            sleep(backoff);
            backoff = std::min(backoff * 2, std::max(opt_.poll * 30, 60000ms));
        }
        return false;
    }

    void sleep(std::chrono::milliseconds d) {
        auto until = std::chrono::steady_clock::now() + d;
        while (!stop_ && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(50ms);
    }

    std::vector<std::string> host_keys() { return read_host_keys(opt_.paths); }

    // ------------------------------------------------------------------------ nodes

    EnrolClient& client() {
        if (!client_) client_ = std::make_unique<EnrolClient>(id_, host_keys(), traffic_);
        return *client_;
    }

    // Best effort: the controller shows this node's steps in its status.
    void report() {
        if (is_controller(self_) || !journal_.done("enrol")) return;
        try {
            auto reply = client().request(proto::Purpose::report,
                                          json{{"steps", steps_to_json(journal_.records())}});
            if (!reply.ok) log_.warn("report refused: " + reply.error);
        } catch (const std::exception& e) {
            log_.warn("report to the controller failed: " + describe(e));
        }
    }

    // The controller's signed enrolment answer: its root key and the keys it replaces.
    std::string controller_answer_file() const {
        return (opt_.paths.state_dir() / "controller_answer.json").string();
    }

    // The root key and the keys it replaces from a verified answer (enrol or roster);
    // ProtocolError when they are not key lines.
    static std::pair<std::string, std::vector<std::string>> root_key_of(const json& body) {
        auto key = body.find("controller_key");
        if (key == body.end() || !key->is_string())
            throw proto::ProtocolError("the controller's answer names no root key");
        std::string k = proto::normalise_host_key(key->get<std::string>());
        std::vector<std::string> replaces;
        auto r = body.find("replaces");
        if (r != body.end()) {
            if (!r->is_array() || r->size() > 16)
                throw proto::ProtocolError("the controller's answer: 'replaces' is not a key list");
            for (const auto& old : *r) {
                if (!old.is_string())
                    throw proto::ProtocolError(
                        "the controller's answer: 'replaces' is not a key list");
                replaces.push_back(proto::normalise_host_key(old.get<std::string>()));
            }
        }
        return {k, replaces};
    }

    std::string enrol() {
        std::string last;
        auto next_note = std::chrono::steady_clock::now();
        // Nodes usually boot together with the controller: retry soon, then back off.
        auto wait = std::min(opt_.poll, std::chrono::milliseconds(100));
        while (!stop_) {
            client().beacon();
            std::string why;
            try {
                auto reply = client().request(proto::Purpose::enrol, json::object());
                if (reply.ok) {
                    // Verified (signed by the controller): kept for the authorized_key step.
                    auto [key, replaces] = root_key_of(reply.body);
                    std::filesystem::create_directories(opt_.paths.state_dir());
                    write_file_atomic(
                        controller_answer_file(),
                        json{{"controller_key", key}, {"replaces", replaces}}.dump() + "\n", 0600);
                    return "enrolled with the controller " +
                           id_.site.address(id_.site.controller()) + "; host keys pinned there";
                }
                // An authenticated refusal: the node's status must say why.
                throw Error("refused by the controller: " + reply.error);
            } catch (const proto::ProtocolError&) {
                throw;  // wrong secret or tampering: the step fails with that reason
            } catch (const SystemError& e) {
                why = "controller " + id_.site.address(id_.site.controller()) + ":" +
                      std::to_string(id_.site.firstboot.port) +
                      " not answering yet: " + describe(e);
            }
            if (why != last || std::chrono::steady_clock::now() >= next_note) {
                log_.info(why);
                last = why;
                next_note = std::chrono::steady_clock::now() + 60s;
            }
            sleep(wait);
            wait = std::min(wait * 2, opt_.poll);
        }
        throw Error("stopped");
    }

    std::string authorized_key() {
        json answer = json::parse(read_file(controller_answer_file(), 64 << 10), nullptr, false);
        if (answer.is_discarded() || !answer.is_object())
            throw Error(controller_answer_file() +
                        " is not JSON: remove it and restart to enrol again");
        auto [key, replaces] = root_key_of(answer);
        std::string how = install_controller_root_key(opt_.paths, key, replaces);
        return "the controller's root key is in /root/.ssh/authorized_keys (" + how + ")";
    }

    json roster() {
        auto reply = client().request(proto::Purpose::roster, json::object());
        if (!reply.ok) throw Error("roster refused by the controller: " + reply.error);
        return reply.body;
    }

    std::vector<KnownHost> known_hosts_from(const json& roster) const {
        return known_hosts_from_roster(id_.site, roster);
    }

    std::string known_hosts_node() {
        for (;;) {
            json r = roster();
            if (r.value("complete", false)) {
                write_known_hosts(opt_.paths, known_hosts_from(r));
                roster_generation_ = r.value("generation", 0);
                return "ssh_known_hosts lists the host keys of all " +
                       std::to_string(r.at("nodes").size()) + " nodes";
            }
            if (stop_) throw Error("stopped");
            sleep(opt_.poll);
        }
    }

    // The root key of a verified roster (every poll: a rotated key does not change the
    // roster's generation). A refused rotation fails the authorized_key step, so the status
    // says why; logged once per reason.
    void follow_root_key(const json& roster) {
        auto [key, replaces] = root_key_of(roster);
        try {
            std::string how = install_controller_root_key(opt_.paths, key, replaces);
            if (how != "unchanged" || !root_key_refusal_.empty()) {
                log_.info("the controller's root key " + how);
                journal_.finish(
                    "authorized_key",
                    "the controller's root key is in /root/.ssh/authorized_keys (" + how + ")");
                root_key_refusal_.clear();
            }
        } catch (const std::exception& e) {
            std::string why = describe(e);
            if (why != root_key_refusal_) {
                log_.warn("authorized_key: " + why);
                journal_.fail("authorized_key", why);
                root_key_refusal_ = why;
            }
        }
    }

    int node_quiet() {
        while (!stop_) {
            sleep(opt_.poll * 30);
            if (stop_) break;
            try {
                json r = roster();
                follow_root_key(r);
                int g = r.value("generation", 0);
                if (g != roster_generation_) {
                    if (self_.role == node::Role::compute && r.value("complete", false)) {
                        write_known_hosts(opt_.paths, known_hosts_from(r));
                        log_.info("the roster changed (generation " + std::to_string(g) +
                                  "): ssh_known_hosts rewritten");
                    }
                    roster_generation_ = g;
                }
                report();
            } catch (const std::exception& e) {
                log_.warn("roster check failed: " + describe(e));
            }
        }
        return 0;
    }

    // ------------------------------------------------------------------- controller

    std::string barrier(SiteState& state) {
        // One deadline across retries: after it passes, each retry checks once and fails
        // again at once (naming who is missing) until everyone is there.
        if (!barrier_deadline_)
            barrier_deadline_ = std::chrono::steady_clock::now() +
                                std::chrono::seconds(id_.site.firstboot.barrier_timeout);
        auto deadline = *barrier_deadline_;
        for (;;) {
            std::vector<std::string> missing;
            for (const auto& n : id_.site.nodes) {
                if (is_controller(n)) continue;
                auto rec = state.node(n.name);
                std::string why;
                if (!rec || (rec->last_seen == 0 && !rec->enrolled)) {
                    why = rec && !rec->last_refusal.empty() ? "refused: " + rec->last_refusal
                                                            : "never heard from";
                } else if (!rec->enrolled) {
                    why = rec->last_refusal.empty()
                              ? "heard at " + rec->address + " but not enrolled"
                              : "refused: " + rec->last_refusal;
                } else {
                    auto failed = std::find_if(rec->steps.begin(), rec->steps.end(), [](auto& s) {
                        return s.state == StepState::failed;
                    });
                    bool all_done = !rec->steps.empty() &&
                                    std::all_of(rec->steps.begin(), rec->steps.end(),
                                                [](auto& s) { return s.state == StepState::done; });
                    if (failed != rec->steps.end()) {
                        why = "step " + failed->name + " failed: " + failed->detail;
                    } else if (!all_done) {
                        why = "still working";
                    }
                }
                if (!why.empty()) missing.push_back(n.name + " (" + why + ")");
            }
            if (missing.empty())
                return "all " + std::to_string(id_.site.nodes.size() - 1) +
                       " nodes enrolled and done";
            state.flush();
            if (std::chrono::steady_clock::now() >= deadline) {
                throw Error("waited " + std::to_string(id_.site.firstboot.barrier_timeout) +
                            " s at the barrier; missing: " + text::join(missing, ", "));
            }
            if (stop_) throw Error("stopped");
            sleep(std::min(opt_.poll, std::chrono::milliseconds(500)));
        }
    }

    // The roster generation ssh_known_hosts was last written for, kept across restarts: a
    // restarted controller must not mistake its first look at the roster for a rejoin (and
    // redeploy), nor miss a rejoin that happened while it was down.
    std::filesystem::path roster_generation_file() const {
        return opt_.paths.state_dir() / "known_hosts_generation";
    }

    std::string known_hosts_controller() {
        json r = server_->roster();
        write_known_hosts(opt_.paths, known_hosts_from(r));
        roster_generation_ = r.value("generation", 0);
        write_file_atomic(roster_generation_file(), std::to_string(roster_generation_) + "\n",
                          0600);
        return "ssh_known_hosts lists the host keys of all " +
               std::to_string(r.at("nodes").size()) + " nodes";
    }

    std::string verify_all() {
        std::vector<const node::Node*> all;
        for (const auto& n : id_.site.nodes) all.push_back(&n);
        return verify_ssh(*ctx_, all);
    }

    // This controller's root keys before the current one (kept in the state folder, oldest
    // first): the answers name them, so that nodes swap the old key for the new one.
    std::vector<std::string> replaced_root_keys() {
        std::string current = read_root_public_key(opt_.paths);
        if (current.empty()) return {};
        current = normalize_public_key(current);
        auto served_file = opt_.paths.state_dir() / "root_key_served";
        auto replaced_file = opt_.paths.state_dir() / "root_keys_replaced";
        std::filesystem::create_directories(opt_.paths.state_dir());
        std::vector<std::string> replaced;
        if (std::filesystem::exists(replaced_file)) {
            for (const auto& l : text::split(read_file(replaced_file, 64 << 10), '\n')) {
                if (!text::trim(l).empty()) replaced.push_back(text::trim(l));
            }
        }
        std::string served;
        if (std::filesystem::exists(served_file))
            served = text::trim(read_file(served_file, 64 << 10));
        if (!served.empty() && served != current &&
            std::find(replaced.begin(), replaced.end(), served) == replaced.end()) {
            replaced.push_back(served);
            if (replaced.size() > 8) replaced.erase(replaced.begin());
            write_file_atomic(replaced_file.string(), text::join(replaced, "\n") + "\n", 0600);
        }
        if (served != current) write_file_atomic(served_file.string(), current + "\n", 0600);
        std::erase(replaced, current);
        return replaced;
    }

    void start_server(SiteState& state) {
        if (server_) return;
        for (;;) {
            try {
                auto s = std::make_unique<EnrolServer>(id_, state, host_keys(),
                                                       read_root_public_key(opt_.paths), log_,
                                                       traffic_, replaced_root_keys());
                s->start();
                s->guard().publish_to(opt_.paths.run_dir() / "unauthenticated.json");
                server_ = std::move(s);
                return;
            } catch (const SystemError& e) {
                log_.warn("cannot serve enrolment yet: " + describe(e) + " (retrying)");
                if (stop_) return;
                sleep(opt_.poll);
            }
        }
    }

    // After root_key: the enrolment server needs only the keys, so it starts before the
    // checks and the nodes enrol while the controller finishes its own steps.
    bool serve_enrolment() {
        // Made once: the enrolment server keeps a reference for the daemon's lifetime.
        if (!state_)
            state_ = std::make_unique<SiteState>(opt_.paths.enrolled(), opt_.paths.rejoin_dir());
        start_server(*state_);
        if (!server_) return false;
        if (roster_generation_ < 0 && journal_.done("known_hosts") &&
            std::filesystem::exists(roster_generation_file())) {
            auto saved = text::parse_int(text::trim(read_file(roster_generation_file(), 64)));
            roster_generation_ = saved ? static_cast<int>(*saved) : -1;
        }
        return true;
    }

    // ------------------------------------------------------------------- deployment

    const node::DeployConfig& deploy_config() {
        if (!deploy_config_) deploy_config_ = load_deploy_config(opt_.paths, id_.site_secret);
        return *deploy_config_;
    }

    // Which enrolment of each node the last successful packstack run deployed.
    std::map<std::string, int> deployed() {
        std::map<std::string, int> out;
        auto doc = load_state_file(opt_.paths.deployed(), 1 << 20, 1, [&](const std::string& why) {
            throw InputError(opt_.paths.deployed().string() + ": " + why);
        });
        if (doc) out = doc->at("nodes").get<std::map<std::string, int>>();
        return out;
    }

    // The site's enrolled nodes and their enrolment generations (records of strangers that
    // were refused do not count).
    std::map<std::string, int> enrolled_generations() {
        std::map<std::string, int> out;
        for (const auto& n : id_.site.nodes) {
            auto r = state_->node(n.name);
            if (r && r->enrolled) out[n.name] = r->generation;
        }
        return out;
    }

    void record_deployed() {
        json nodes = json::object();
        for (const auto& [name, generation] : enrolled_generations()) nodes[name] = generation;
        save_state_file(opt_.paths.deployed(), json{{"format", 1}, {"nodes", nodes}}.dump(1));
    }

    // A redeployment after nodes were reinstalled and rejoined: packstack runs on them only
    // (EXCLUDE_SERVERS lists every other node). The first deployment, or one where no node
    // changed, excludes nobody.
    std::vector<std::string> excluded_servers() {
        auto before = deployed();
        if (before.empty()) return {};
        std::set<std::string> changed;
        for (const auto& [name, generation] : enrolled_generations()) {
            auto it = before.find(name);
            if (it == before.end() || it->second != generation) changed.insert(name);
        }
        if (changed.empty()) return {};
        std::vector<std::string> exclude;
        for (const auto& n : id_.site.nodes) {
            if (!changed.count(n.name)) exclude.push_back(id_.site.address(n));
        }
        log_.info("redeploying " +
                  text::join(std::vector<std::string>(changed.begin(), changed.end()), ", ") +
                  " only: the other nodes are excluded");
        return exclude;
    }

    std::string packstack() {
        std::string detail = step_packstack(*ctx_);
        record_deployed();
        return detail;
    }

    int controller_quiet() {
        while (!stop_) {
            sleep(std::min(opt_.poll, std::chrono::milliseconds(1000)));
            state_->flush();
            if (state_->roster_generation() == roster_generation_) continue;
            log_.info(
                "a node's host keys changed (rejoin): refreshing known hosts and "
                "re-checking SSH");
            journal_.reset_from("barrier");
            if (!run_steps()) break;
        }
        if (server_) server_->stop();
        state_->flush();
        return 0;
    }

    const DaemonOptions& opt_;
    const std::atomic<bool>& stop_;
    node::Identity id_;
    const node::Node& self_;
    Log log_;
    Journal journal_;
    std::unique_ptr<CommandRunner> runner_;
    std::unique_ptr<StepContext> ctx_;
    Traffic traffic_;
    std::unique_ptr<EnrolClient> client_;
    std::unique_ptr<SiteState> state_;
    std::unique_ptr<EnrolServer> server_;
    int roster_generation_ = -1;
    std::string root_key_refusal_;  // the last refused root key rotation's reason
    std::optional<std::chrono::steady_clock::time_point> barrier_deadline_;
    std::optional<node::DeployConfig> deploy_config_;
};

bool every(const node::Site&, const node::Node&) {
    return true;
}
bool compute(const node::Site&, const node::Node& n) {
    return n.role == node::Role::compute;
}
bool network_with_external_nic(const node::Site& site, const node::Node& n) {
    return n.role == node::Role::network && site.external_interface(n) != nullptr;
}
bool cloud_to_create(const node::Site& site, const node::Node&) {
    return !site.cloud.empty();
}

const std::vector<Daemon::Step>& Daemon::controller_steps() {
    static const std::vector<Step> steps{
        {"identity", every, [](Daemon& d) { return step_identity(*d.ctx_); }},
        {"host_keys", every, [](Daemon& d) { return step_host_keys(*d.ctx_); }},
        {"root_key", every, [](Daemon& d) { return step_root_key(*d.ctx_); }, 0,
         [](Daemon& d) { return d.serve_enrolment(); }},
        {"checks", every, [](Daemon& d) { return step_checks(*d.ctx_); }},
        {"chrony", every, [](Daemon& d) { return step_chrony(*d.ctx_); }},
        {"chrony_wait", every, [](Daemon& d) { return step_chrony_wait(*d.ctx_); }},
        // Its links to every node, as each node checks its own: a peer not up yet is retried.
        {"cabling", every, [](Daemon& d) { return step_cabling(*d.ctx_); }},
        {"barrier", every, [](Daemon& d) { return d.barrier(*d.state_); }},
        {"known_hosts", every, [](Daemon& d) { return d.known_hosts_controller(); }},
        {"verify_ssh", every, [](Daemon& d) { return d.verify_all(); }},
        {"answers", every,
         [](Daemon& d) { return step_answers(*d.ctx_, d.deploy_config(), d.excluded_servers()); }},
        // Half an hour a run: it stays failed after two tries, until the daemon restarts.
        {"packstack", every, [](Daemon& d) { return d.packstack(); }, 2},
        {"verify_token", every, [](Daemon& d) { return step_verify_token(*d.ctx_); }},
        {"verify_users", every, [](Daemon& d) { return step_verify_users(*d.ctx_); }},
        {"verify_images", every, [](Daemon& d) { return step_verify_images(*d.ctx_); }},
        {"verify_compute", every, [](Daemon& d) { return step_verify_compute(*d.ctx_); }},
        {"verify_network", every, [](Daemon& d) { return step_verify_network(*d.ctx_); }},
        {"day1", cloud_to_create, [](Daemon& d) { return step_day1(*d.ctx_, d.deploy_config()); }},
    };
    return steps;
}

const std::vector<Daemon::Step>& Daemon::node_steps() {
    static const std::vector<Step> steps{
        {"identity", every, [](Daemon& d) { return step_identity(*d.ctx_); }},
        {"checks", every, [](Daemon& d) { return step_checks(*d.ctx_); }},
        {"host_keys", every, [](Daemon& d) { return step_host_keys(*d.ctx_); }},
        {"compute", compute, [](Daemon& d) { return step_compute(*d.ctx_); }},
        {"external_nic", network_with_external_nic,
         [](Daemon& d) { return step_external_nic(*d.ctx_); }},
        {"enrol", every, [](Daemon& d) { return d.enrol(); }},
        // After enrolment, so that a broken link is reported to the controller's status.
        {"cabling", every, [](Daemon& d) { return step_cabling(*d.ctx_); }},
        {"authorized_key", every, [](Daemon& d) { return d.authorized_key(); }},
        {"chrony", every, [](Daemon& d) { return step_chrony(*d.ctx_); }},
        {"chrony_wait", every, [](Daemon& d) { return step_chrony_wait(*d.ctx_); }},
        {"known_hosts", compute, [](Daemon& d) { return d.known_hosts_node(); }},
    };
    return steps;
}

}  // namespace

std::vector<std::string> plan_for(const node::Site& site, const node::Node& node) {
    return Daemon::plan(site, node);
}

int run_daemon(const DaemonOptions& options, const std::atomic<bool>& stop) {
    node::Identity id = node::load_identity(options.paths);
    if (!options.exec_hook.empty()) {
        ::setenv("AIRSTRAP_ROOT", options.paths.root.c_str(), 1);
        ::setenv("AIRSTRAP_NODE", id.node.c_str(), 1);
    }
    Daemon d(options, stop, std::move(id));
    return d.run();
}

}  // namespace airstrap::firstboot
