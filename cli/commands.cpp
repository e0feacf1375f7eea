#include "cli/commands.hpp"

#include <iostream>
#include <nlohmann/json.hpp>

#include "builder/iso.hpp"
#include "builder/qcow2.hpp"
#include "cli/inputs.hpp"
#include "common/embedded.hpp"
#include "common/file_io.hpp"
#include "common/progress.hpp"
#include "deploy/answers.hpp"
#include "deploy/kolla.hpp"
#include "kickstart/node_config.hpp"
#include "kickstart/render.hpp"
#include "repo-mirror/mirror.hpp"
#include "site/secrets.hpp"
#include "site/secrets_file.hpp"
#include "site/site_file.hpp"

namespace airstrap {
extern const EmbeddedFile site_templates[];
}

namespace airstrap::cli {

namespace fs = std::filesystem;

namespace {

nlohmann::json diagnostics_json(const Diagnostics& diag) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& d : diag.all()) {
        list.push_back({{"file", diag.source().path},
                        {"line", d.where.line},
                        {"column", d.where.column},
                        {"severity", d.severity == Severity::error ? "error" : "warning"},
                        {"message", d.message}});
    }
    return list;
}

std::string summary(const site::Site& s) {
    auto count = [&](site::Role r) { return std::to_string(s.nodes_with_role(r).size()); };
    return std::to_string(s.nodes.size()) + " nodes (" + count(site::Role::controller) +
           " controller, " + count(site::Role::network) + " network, " +
           count(site::Role::compute) + " compute), " + site::to_string(s.distro) + ", " +
           s.openstack.deployer + " " + s.openstack.release + " with " +
           site::to_string(s.openstack.l2_agent);
}

}  // namespace

ExitCode run_init(const InitOptions& o) {
    std::error_code ec;
    fs::create_directories(o.dir, ec);
    if (ec) throw SystemError("cannot create " + o.dir.string(), ec.value());
    fs::path site_path = o.dir / "site.yaml";
    fs::path secrets_path = o.dir / "secrets.yaml";
    if (!o.secrets_only) {
        if (fs::exists(site_path) && !o.force) {
            throw InputError(site_path.string() +
                             " already exists; edit it, or pass --force to replace it with the "
                             "template (secrets.yaml is never replaced)");
        }
        write_file_atomic(site_path, site_templates[0].text, 0644);
        std::cout << "wrote " << site_path.string() << " (a commented template: edit it)\n";
    }
    auto cloud_users = site::cloud_users_in(site_path);  // they get passwords too
    if (fs::exists(secrets_path)) {
        std::cout << "kept " << secrets_path.string() << " (existing secrets are never replaced)\n";
        std::cerr << site::missing_user_passwords_note(secrets_path, cloud_users);
    } else {
        write_file_atomic(secrets_path, site::generate_secrets_yaml(cloud_users), 0600);
        std::cout << "wrote " << secrets_path.string()
                  << " (mode 0600: site secret and generated passwords)\n";
    }
    return ExitCode::ok;
}

ExitCode run_validate(const ValidateOptions& o) {
    auto file = site::SiteFile::load(o.site);
    std::unique_ptr<site::SecretsFile> secrets;
    if (file->ok())
        secrets = site::SecretsFile::load(secrets_path_for(file->site(), o.secrets), file->site());
    bool secrets_bad = secrets && secrets->diag().has_errors() && !secrets->missing();
    bool ok = file->ok() && !secrets_bad;
    if (o.json) {
        nlohmann::json out = {{"ok", ok}, {"diagnostics", diagnostics_json(file->diag())}};
        if (secrets && !secrets->missing()) {
            for (auto& d : diagnostics_json(secrets->diag())) out["diagnostics"].push_back(d);
        }
        if (secrets && secrets->missing()) out["secrets"] = "missing";
        std::cout << out.dump(2) << "\n";
        return ok ? ExitCode::ok : ExitCode::bad_input;
    }
    std::cerr << file->diag().render();
    if (secrets) {
        if (secrets->missing()) {
            std::cerr << secrets->diag().source().path
                      << ": warning: no secrets file yet; 'airstrap init --secrets-only "
                      << secrets->path().parent_path().string()
                      << "' makes one (needed to write kickstarts)\n";
        } else {
            std::cerr << secrets->diag().render();
        }
    }
    if (!ok) {
        std::size_t errors =
            file->diag().error_count() + (secrets ? secrets->diag().error_count() : 0);
        std::cerr << o.site.string() << ": " << errors << (errors == 1 ? " error" : " errors")
                  << "\n";
        return ExitCode::bad_input;
    }
    std::cout << o.site.string() << ": ok: " << summary(file->site()) << "\n";
    return ExitCode::ok;
}

ExitCode run_kickstart(const KickstartOptions& o) {
    auto loaded = load_site_and_secrets(o.site, o.secrets);
    if (!loaded) return ExitCode::bad_input;
    const site::Site& s = loaded->site();
    for (const auto& path : kickstart::write_kickstarts(s, loaded->keys(), o.output)) {
        std::string role = path.stem().string();
        std::string nodes;
        for (const auto& n : s.nodes) {
            if (role == site::to_string(n.role)) nodes += (nodes.empty() ? "" : ", ") + n.name;
        }
        if (path.filename() == kickstart::site_profile_name) nodes = "every node, by MAC";
        if (path.parent_path().filename() == kickstart::node_kickstart_dir)
            nodes = role + " only, for a network install";
        std::cout << "wrote " << path.string() << " (" << nodes << ")\n";
    }
    std::cout << "All are secret (0600). The role profiles and " << kickstart::site_profile_name
              << " carry the keys of every node they serve (" << kickstart::site_profile_name
              << " and the controller's also the site secret): for removable media only; treat "
                 "such a stick like a key. A network install serves each node its own "
              << kickstart::node_kickstart_dir << "/NODE.ks.\n";
    return ExitCode::ok;
}

ExitCode run_node_config(const NodeConfigOptions& o) {
    auto loaded = load_site_and_secrets(o.site, o.secrets);
    if (!loaded) return ExitCode::bad_input;
    auto dir = kickstart::write_node_config(loaded->site(), loaded->keys(), o.node, o.root);
    std::cout << "wrote " << (dir / "site.json").string() << ", node.key (0600)"
              << (fs::exists(dir / "site.key") ? ", site.key (0600)" : "")
              << (fs::exists(dir / "deploy.sealed") ? ", deploy.sealed (0600)" : "")
              << " and node (" << o.node << ")\n";
    return ExitCode::ok;
}

ExitCode run_answers(const AnswersOptions& o) {
    auto loaded = load_site_and_secrets(o.site, o.secrets);
    if (!loaded) return ExitCode::bad_input;
    const site::Site& s = loaded->site();
    auto settings = deploy::packstack_settings(s, loaded->keys());
    std::string baseline, name;
    if (o.from) {
        baseline = read_file(*o.from, 4 << 20);
        name = o.from->string();
    } else {
        baseline = deploy::baseline_answer_file(*site::packstack_release(s.openstack.release));
        name = "Packstack " + s.openstack.release + " defaults";
    }
    // Passwords go only into a 0600 file, or to the terminal when asked for.
    bool mask = !o.output && !o.show_passwords;
    std::string text = deploy::render_answer_file(baseline, name, settings, mask);
    if (o.output) {
        write_file_atomic(*o.output, text, 0600);
        std::cout << "wrote " << o.output->string() << " (0600): " << settings.size()
                  << " keys set from site.yaml and secrets.yaml on " << name << "\n";
    } else {
        std::cout << text;
    }
    return ExitCode::ok;
}

ExitCode run_mirror(const MirrorCliOptions& o) {
    if (o.verify) {
        auto report = mirror::verify_mirror(*o.verify);
        if (o.json) {
            std::cout << nlohmann::json{{"ok", report.problems.empty()},
                                        {"checked", report.checked},
                                        {"problems", report.problems}}
                             .dump(2)
                      << "\n";
        } else {
            for (const auto& p : report.problems)
                std::cerr << o.verify->string() << ": " << p << "\n";
            std::cout << o.verify->string() << ": " << report.checked << " packages checked, "
                      << report.problems.size() << " problems\n";
        }
        return report.problems.empty() ? ExitCode::ok : ExitCode::failure;
    }
    auto file = site::SiteFile::load(o.site);
    std::cerr << file->diag().render();
    if (!file->ok()) return ExitCode::bad_input;
    mirror::MirrorOptions options;
    options.output = o.output;
    options.all = o.all;
    if (o.no_weak_deps) options.weak_deps = false;
    options.jobs = o.jobs;
    options.dry_run = o.dry_run;
    options.metadata.allow_weak_checksums = o.allow_weak_checksums;
    if (o.role) {
        for (site::Role r : site::all_roles) {
            if (*o.role == site::to_string(r)) options.role = r;
        }
        if (!options.role) throw InputError("--role must be controller, network or compute");
    }
    if (!o.json) {
        options.log = [](const std::string& line) { std::cerr << "airstrap: " << line << "\n"; };
        options.progress = [show = transfer_progress()](const mirror::FetchProgress& p) {
            show(p.files_done, p.files_total, p.bytes_done, p.bytes_total);
        };
    }
    auto summary = mirror::build_mirror(file->site(), options);
    if (o.dry_run) {
        if (o.json) {
            std::cout << nlohmann::json{{"ok", true},
                                        {"dry_run", true},
                                        {"packages", summary.packages},
                                        {"bytes", summary.bytes},
                                        {"roles", summary.per_role},
                                        {"sources", summary.sources}}
                             .dump(2)
                      << "\n";
        } else {
            std::string roles;
            for (const auto& [role, n] : summary.per_role)
                roles += (roles.empty() ? "" : ", ") + role + " " + std::to_string(n);
            std::cout << "would mirror " << summary.packages << " packages ("
                      << summary.bytes / 1024 << " KiB) from " << summary.sources.size()
                      << " sources" << (roles.empty() ? "" : "; per role: " + roles) << "\n";
        }
        return ExitCode::ok;
    }
    if (o.json) {
        std::cout << nlohmann::json{{"ok", true},
                                    {"output", o.output.string()},
                                    {"packages", summary.packages},
                                    {"bytes", summary.bytes},
                                    {"reused", summary.reused},
                                    {"signatures_verified", summary.verified_signatures},
                                    {"unsigned", summary.unsigned_packages},
                                    {"roles", summary.per_role},
                                    {"sources", summary.sources}}
                         .dump(2)
                  << "\n";
    } else {
        std::cout << "wrote " << o.output.string() << ": " << summary.packages << " packages ("
                  << summary.bytes / 1024 << " KiB), " << summary.reused
                  << " reused from the previous run\n";
    }
    return ExitCode::ok;
}

ExitCode run_build_iso(const BuildIsoOptions& o) {
    auto loaded = load_site_and_secrets(o.site, o.secrets);
    if (!loaded) return ExitCode::bad_input;
    builder::IsoOptions options;
    options.output = o.output;
    options.vendor_iso = o.vendor_iso;
    options.repo = o.repo;
    options.volume_id = o.volume_id;
    options.append = o.append;
    options.timeout_seconds = o.timeout;
    options.node = o.node;
    if (!o.json) {
        options.log = [](const std::string& line) { std::cerr << "airstrap: " << line << "\n"; };
        options.progress = copy_progress("copying the vendor DVD");
    }
    SystemCommandRunner runner;
    auto summary = builder::build_iso(loaded->site(), loaded->keys(), options, runner);
    if (o.json) {
        std::cout << nlohmann::json{{"ok", true},
                                    {"output", o.output.string()},
                                    {"bytes", summary.bytes},
                                    {"vendor_bytes", summary.vendor_bytes},
                                    {"volume_id", summary.volume_id},
                                    {"vendor_label", summary.vendor_label},
                                    {"product", summary.product},
                                    {"kickstarts", summary.kickstarts},
                                    {"menus", summary.menus},
                                    {"entries", summary.entries}}
                         .dump(2)
                  << "\n";
    } else {
        std::cout << "wrote " << o.output.string() << ": " << summary.bytes / 1048576 << " MiB, "
                  << (summary.product.empty() ? summary.vendor_label : summary.product)
                  << " + site " << loaded->site().name << " (" << summary.kickstarts.size()
                  << " kickstarts, " << summary.entries << " entries in " << summary.menus.size()
                  << " boot menus), label '" << summary.volume_id << "'\n"
                  << "It is secret (0600): its kickstarts hold every node's key and the site "
                     "secret. Treat the ISO and every stick or disc made from it like a key.\n";
    }
    return ExitCode::ok;
}

ExitCode run_build_qcow2(const BuildQcow2Options& o) {
    auto loaded = load_site_and_secrets(o.site, o.secrets);
    if (!loaded) return ExitCode::bad_input;
    builder::Qcow2Options options;
    options.repo = o.repo;
    options.profile = o.profile;
    options.output = o.output;
    options.size_gib = o.size_gib;
    if (o.compress) options.compress = true;
    if (o.all) {
        for (const auto& n : loaded->site().nodes) options.nodes.push_back(n.name);
    } else {
        options.nodes = o.nodes;
    }
    if (options.nodes.empty()) {
        std::cerr
            << "airstrap: error: name the nodes with --node NAME (repeatable) or give --all\n";
        return ExitCode::bad_input;
    }
    if (options.nodes.size() > 1 && fs::exists(o.output) && !fs::is_directory(o.output)) {
        std::cerr << "airstrap: error: " << o.output.string()
                  << " is a file; with several nodes -o names a folder for NODE.qcow2\n";
        return ExitCode::bad_input;
    }
    if (!o.json)
        options.log = [](const std::string& line) { std::cerr << "airstrap: " << line << "\n"; };
    SystemCommandRunner runner;
    auto summary = builder::build_qcow2(loaded->site(), loaded->keys(), options, runner);
    nlohmann::json images = nlohmann::json::array();
    for (const auto& i : summary.images) {
        nlohmann::json disks = nlohmann::json::array();
        for (const auto& d : i.disks) disks.push_back(d.string());
        images.push_back({{"node", i.node},
                          {"path", i.path.string()},
                          {"disks", disks},
                          {"packages", i.packages},
                          {"installed_bytes", i.installed_bytes},
                          {"file_bytes", i.file_bytes},
                          {"virtual_bytes", i.virtual_bytes},
                          {"kernel", i.kernel},
                          {"seconds", i.seconds}});
        if (!o.json) {
            std::cout << "wrote " << i.path.string() << ": node " << i.node << ", " << i.packages
                      << " packages (" << i.installed_bytes / 1048576 << " MiB installed), file "
                      << i.file_bytes / 1048576 << " MiB of " << i.virtual_bytes / 1073741824
                      << " GiB, kernel " << i.kernel << "\n";
            for (std::size_t d = 1; d < i.disks.size(); ++d)
                std::cout << "  RAID1 member " << d + 1 << ": " << i.disks[d].string() << "\n";
            bool controller = false;
            for (const auto& n : loaded->site().nodes)
                controller |= n.name == i.node && n.role == site::Role::controller;
            std::cout << "  secret (0600): it holds " << i.node << "'s key"
                      << (controller ? ", the site secret and every deployment password" : "")
                      << "; treat the image like a key\n";
        }
    }
    if (o.json) {
        std::cout << nlohmann::json{{"ok", true},
                                    {"profile", summary.profile},
                                    {"launch_seconds", summary.launch_seconds},
                                    {"images", images}}
                         .dump(2)
                  << "\n";
    }
    return ExitCode::ok;
}

// No secrets: kolla's passwords are kolla-genpwd's, and the inventory holds none.
ExitCode run_inventory(const InventoryOptions& o) {
    auto file = site::SiteFile::load(o.site);
    std::cerr << file->diag().render();
    if (!file->ok()) return ExitCode::bad_input;
    const site::Site& s = file->site();
    deploy::write_kolla_inventory(s, o.output, o.site.string());
    std::cout << "wrote " << (o.output / "multinode").string() << " and "
              << (o.output / "globals.yml").string() << " (kolla-ansible " << s.openstack.release
              << ", site " << s.name << ")\n"
              << "still needed from the operator: a registry with kolla's images "
                 "(docker_registry in globals.yml), /etc/kolla/passwords.yml from kolla-genpwd\n";
    return ExitCode::ok;
}

}  // namespace airstrap::cli
