// One function per subcommand; main() only parses flags and maps errors to exit codes.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace airstrap::cli {

struct InitOptions {
    std::filesystem::path dir;
    bool secrets_only = false;
    bool force = false;
};
ExitCode run_init(const InitOptions& options);

struct ValidateOptions {
    std::filesystem::path site;
    std::optional<std::filesystem::path> secrets;
    bool json = false;
};
ExitCode run_validate(const ValidateOptions& options);

struct KickstartOptions {
    std::filesystem::path site;
    std::optional<std::filesystem::path> secrets;
    std::filesystem::path output;
};
ExitCode run_kickstart(const KickstartOptions& options);

struct NodeConfigOptions {
    std::filesystem::path site;
    std::optional<std::filesystem::path> secrets;
    std::string node;
    std::filesystem::path root;
};
ExitCode run_node_config(const NodeConfigOptions& options);

struct AnswersOptions {
    std::filesystem::path site;
    std::optional<std::filesystem::path> secrets;
    std::optional<std::filesystem::path> from;  // a `packstack --gen-answer-file` output
    std::optional<std::filesystem::path> output;
    bool show_passwords = false;
};
ExitCode run_answers(const AnswersOptions& options);

struct MirrorCliOptions {
    std::filesystem::path site;
    std::filesystem::path output;
    std::optional<std::string> role;
    bool all = false;
    bool no_weak_deps = false;
    bool allow_weak_checksums = false;
    int jobs = 8;
    bool json = false;
    bool dry_run = false;                         // solve and say what; write nothing
    std::optional<std::filesystem::path> verify;  // --verify DIR instead of building
};
ExitCode run_mirror(const MirrorCliOptions& options);

struct BuildIsoOptions {
    std::filesystem::path site;
    std::optional<std::filesystem::path> secrets;
    std::filesystem::path output;
    std::filesystem::path vendor_iso;  // empty: the site's media.vendor_iso
    std::filesystem::path repo;
    std::string volume_id;
    std::string append;
    int timeout = 10;
    std::string node;
    bool json = false;
};
ExitCode run_build_iso(const BuildIsoOptions& options);

struct BuildQcow2Options {
    std::filesystem::path site;
    std::optional<std::filesystem::path> secrets;
    std::filesystem::path output;
    std::filesystem::path repo;
    std::vector<std::string> nodes;
    bool all = false;
    std::string profile;
    std::optional<int> size_gib;
    bool compress = false;
    bool json = false;
};
ExitCode run_build_qcow2(const BuildQcow2Options& options);

struct BuildPxeOptions {
    std::filesystem::path site;
    std::optional<std::filesystem::path> secrets;
    std::filesystem::path output;
    std::filesystem::path vendor_iso;  // empty: the site's media.vendor_iso
    std::filesystem::path repo;
    std::string server_ip;
    int http_port = 8080;
    std::string append;
    int timeout = 10;
    bool allow_foreign_server_ip = false;
    bool json = false;
};
ExitCode run_build_pxe(const BuildPxeOptions& options);

struct ServeCliOptions {
    std::filesystem::path dir;
    std::string interface;
    std::string listen;
    bool http_only = false;
    std::string server_user = "nobody";
    std::string rebuild;  // a node: back into build, then return
    bool status = false;  // print the nodes' states and phases, then return
    bool json = false;
};
ExitCode run_serve(const ServeCliOptions& options);

struct InventoryOptions {
    std::filesystem::path site;
    std::string format;  // only "kolla" so far
    std::filesystem::path output;
};
ExitCode run_inventory(const InventoryOptions& options);

}  // namespace airstrap::cli
