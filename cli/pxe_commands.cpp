// `airstrap build pxe` and `airstrap serve`: flags onto builder/pxe.hpp.
#include <iostream>
#include <nlohmann/json.hpp>

#include "builder/pxe.hpp"
#include "cli/commands.hpp"
#include "cli/inputs.hpp"

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
        std::cout << nlohmann::json{{"ok", true},
                                    {"output", o.output.string()},
                                    {"product", s.product},
                                    {"vendor_label", s.vendor_label},
                                    {"http_url", s.http_url},
                                    {"grub", s.grub_source},
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
        std::cout << "wrote " << o.output.string() << ": " << s.product << " + site "
                  << loaded->site().name << " (" << s.per_mac.size() << " MACs boot their node, "
                  << s.entries << " menu entries, " << s.kickstarts.size() << " kickstarts, grub "
                  << s.grub_source << "), served at " << s.http_url << "; run 'airstrap serve "
                  << o.output.string() << "'\n";
    }
    return ExitCode::ok;
}

ExitCode run_serve(const ServeCliOptions& o) {
    builder::ServeOptions options;
    options.dir = o.dir;
    options.interface = o.interface;
    options.http_listen = o.listen;
    options.http_only = o.http_only;
    options.log = [](const std::string& line) { std::cerr << "airstrap: " << line << "\n"; };
    return builder::serve_pxe(options) == 0 ? ExitCode::ok : ExitCode::failure;
}

}  // namespace airstrap::cli
