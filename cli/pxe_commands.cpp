// `airstrap build pxe` and `airstrap serve`: flags onto builder/pxe.hpp.
#include <algorithm>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "builder/pxe.hpp"
#include "cli/commands.hpp"
#include "cli/inputs.hpp"
#include "common/text.hpp"
#include "provision/admin.hpp"

namespace airstrap::cli {

namespace fs = std::filesystem;

ExitCode run_build_pxe(const BuildPxeOptions& o) {
    // The same checks as every command that needs secrets: a cloud user without a password
    // is refused here, not found at day-1 on the controller.
    auto loaded = load_site_and_secrets(o.site, o.secrets);
    if (!loaded) return ExitCode::bad_input;

    builder::PxeOptions options;
    options.output = o.output;
    options.vendor_iso = o.vendor_iso;
    options.repo = o.repo;
    options.server_ip = o.server_ip;
    options.http_port = o.http_port;
    options.append = o.append;
    options.timeout_seconds = o.timeout;
    options.allow_foreign_server_ip = o.allow_foreign_server_ip;
    if (!o.json) {
        options.log = [](const std::string& line) { std::cerr << "airstrap: " << line << "\n"; };
    }
    SystemCommandRunner runner;
    auto s = builder::build_pxe(loaded->site(), loaded->keys(), options, runner);
    if (o.json) {
        nlohmann::json per_mac = nlohmann::json::array();
        for (const auto& m : s.per_mac) {
            per_mac.push_back({{"node", m.node},
                               {"mac", m.mac},
                               {"pxelinux", "tftp/" + m.pxelinux_cfg},
                               {"grub", "tftp/" + m.grub_cfg}});
        }
        nlohmann::json nodes = nlohmann::json::array();
        for (const auto& n : s.nodes) {
            nodes.push_back({{"node", n.node}, {"state", n.local ? "local" : "build"}});
        }
        std::cout << nlohmann::json{{"ok", true},
                                    {"output", o.output.string()},
                                    {"product", s.product},
                                    {"vendor_label", s.vendor_label},
                                    {"http_url", s.http_url},
                                    {"grub", s.grub_source},
                                    {"uefi_boot_file", s.uefi_boot_file},
                                    {"http_boot", s.http_boot},
                                    {"nodes", nodes},
                                    {"per_mac", per_mac},
                                    {"menu_only_nodes", s.menu_only_nodes},
                                    {"kickstarts", s.kickstarts},
                                    {"entries", s.entries},
                                    {"vendor_files", s.vendor_files},
                                    {"repo_files", s.repo_files},
                                    {"repo_hard_links", s.repo_hard_links}}
                         .dump(2)
                  << "\n";
    } else {
        std::vector<std::string> local;
        for (const auto& n : s.nodes) {
            if (n.local) local.push_back(n.node);
        }
        std::cout << "wrote " << o.output.string() << ": " << s.product << " + site "
                  << loaded->site().name << " (" << s.per_mac.size() << " MACs boot their node, "
                  << s.entries << " menu entries, " << s.kickstarts.size()
                  << " kickstarts under private/, UEFI " << s.uefi_boot_file << ", grub "
                  << s.grub_source << "; "
                  << (local.empty() ? "every node installs on its next network boot"
                                    : "installed, booting their disks: " + text::join(local, ", "))
                  << "), served at " << s.http_url << "; run 'airstrap serve " << o.output.string()
                  << "'\n";
    }
    return ExitCode::ok;
}

namespace {

std::string duration(std::int64_t seconds) {
    if (seconds < 0) seconds = 0;
    if (seconds < 120) return std::to_string(seconds) + "s";
    if (seconds < 7200) return std::to_string(seconds / 60) + "m";
    if (seconds < 172800) return std::to_string(seconds / 3600) + "h";
    return std::to_string(seconds / 86400) + "d";
}

ExitCode print_status(const ServeCliOptions& o) {
    auto nodes = provision::node_status(o.dir);
    auto now = static_cast<std::int64_t>(std::time(nullptr));
    if (o.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& n : nodes) {
            out.push_back(
                {{"node", n.name},
                 {"role", n.role},
                 {"address", n.address},
                 {"state", provision::to_string(n.state.state)},
                 {"phase", provision::to_string(n.state.phase)},
                 {"phase_since", n.state.phase_since},
                 {"seconds_in_phase", std::max<std::int64_t>(0, now - n.state.phase_since)},
                 {"seen_at", n.state.address},
                 {"installs", n.state.installs},
                 {"installed_at", n.state.installed_at},
                 {"last_error", n.state.last_error},
                 {"last_error_at", n.state.last_error_at}});
        }
        std::cout << nlohmann::json{{"ok", true}, {"dir", o.dir.string()}, {"nodes", out}}.dump(2)
                  << "\n";
        return ExitCode::ok;
    }
    std::size_t w = 4;
    for (const auto& n : nodes) w = std::max(w, n.name.size());
    auto pad = [](std::string s, std::size_t width) {
        s.resize(std::max(s.size(), width), ' ');
        return s;
    };
    std::cout << pad("NODE", w) << "  STATE  " << pad("PHASE", 17) << "  " << pad("FOR", 5) << "  "
              << pad("ADDRESS", 15) << "  LAST ERROR\n";
    for (const auto& n : nodes) {
        std::string error =
            n.state.last_error.empty()
                ? "-"
                : n.state.last_error + " (" + duration(now - n.state.last_error_at) + " ago)";
        std::cout << pad(n.name, w) << "  "
                  << pad(std::string(provision::to_string(n.state.state)), 5) << "  "
                  << pad(std::string(provision::to_string(n.state.phase)), 17) << "  "
                  << pad(duration(now - n.state.phase_since), 5) << "  " << pad(n.address, 15)
                  << "  " << error << "\n";
    }
    return ExitCode::ok;
}

}  // namespace

ExitCode run_serve(const ServeCliOptions& o) {
    if (o.status) return print_status(o);
    if (!o.rebuild.empty()) {
        bool changed =
            provision::rebuild(o.dir, o.rebuild, static_cast<std::int64_t>(std::time(nullptr)));
        std::cerr << "airstrap: " << o.rebuild
                  << (changed ? ": back in build" : ": already in build")
                  << ": its next network boot installs it (its kickstart goes to its address "
                     "only; the install wipes its disks)\n";
        return ExitCode::ok;
    }
    builder::ServeOptions options;
    options.dir = o.dir;
    options.interface = o.interface;
    options.http_listen = o.listen;
    options.http_only = o.http_only;
    options.server_user = o.server_user;
    options.log = [](const std::string& line) { std::cerr << "airstrap: " << line << "\n"; };
    return builder::serve_pxe(options) == 0 ? ExitCode::ok : ExitCode::failure;
}

}  // namespace airstrap::cli
