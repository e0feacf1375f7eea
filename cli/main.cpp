// The airstrap command: flags in, one library call per subcommand, errors to exit codes.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <optional>

#include "cli/commands.hpp"
#include "cli/lab_commands.hpp"
#include "common/error.hpp"

namespace {

namespace fs = std::filesystem;

constexpr const char* exit_codes =
    "Exit codes: 0 ok, 1 failure, 2 bad usage or bad input (the site file's problems are\n"
    "printed as file:line:column).";

// The options many subcommands share, each registered by one helper so that its name and
// help text are the same everywhere. The exit-code footer is set once, on the top command:
// CLI11 copies a command's footer into every subcommand made after it.

// Optional only for `mirror`, whose --verify needs no site.
void add_site(CLI::App* cmd, fs::path& site, bool required = true) {
    cmd->add_option("SITE", site, "The site file (site.yaml)")->required(required);
}

void add_secrets(CLI::App* cmd, std::optional<fs::path>& secrets) {
    cmd->add_option("--secrets", secrets,
                    "Secrets file (default: the site's 'secrets', or secrets.yaml beside it)");
}

void add_json(CLI::App* cmd, bool& json, const char* help = "Print a JSON summary on stdout") {
    cmd->add_flag("--json", json, help);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace airstrap;
    CLI::App app{"airstrap: bring an air-gapped OpenStack site up from one site.yaml", "airstrap"};
    app.footer(exit_codes);  // before the subcommands, which copy it
    app.set_version_flag("--version", AIRSTRAP_VERSION);
    app.require_subcommand(1);

    cli::InitOptions init;
    auto* init_cmd = app.add_subcommand(
        "init", "Write a commented site.yaml template and secrets.yaml (mode 0600) into DIR");
    init_cmd->add_option("DIR", init.dir, "Folder for the site files (made if missing)")
        ->required();
    init_cmd->add_flag("--secrets-only", init.secrets_only,
                       "Only write secrets.yaml (for an existing site.yaml)");
    init_cmd->add_flag("--force", init.force,
                       "Replace an existing site.yaml with the template (never secrets.yaml)");

    cli::ValidateOptions validate;
    auto* validate_cmd = app.add_subcommand(
        "validate", "Check a site file and its secrets; report every problem at once");
    add_site(validate_cmd, validate.site);
    add_secrets(validate_cmd, validate.secrets);
    add_json(validate_cmd, validate.json, "Print the result as JSON on stdout");

    cli::KickstartOptions kickstart;
    auto* kickstart_cmd = app.add_subcommand(
        "kickstart", "Write one kickstart profile per role (DIR/<role>.ks, mode 0600)");
    add_site(kickstart_cmd, kickstart.site);
    kickstart_cmd->add_option("-o,--output", kickstart.output, "Output folder")->required();
    add_secrets(kickstart_cmd, kickstart.secrets);

    cli::NodeConfigOptions node_config;
    auto* node_config_cmd = app.add_subcommand(
        "node-config",
        "Write one node's first-boot configuration under ROOT/etc/airstrap (as its kickstart "
        "would): site.json, site.key (0600), node");
    add_site(node_config_cmd, node_config.site);
    node_config_cmd->add_option("--node", node_config.node, "The node's name")->required();
    node_config_cmd->add_option("--root", node_config.root, "The node's root folder")->required();
    add_secrets(node_config_cmd, node_config.secrets);

    cli::AnswersOptions answers;
    auto* answers_cmd = app.add_subcommand(
        "answers",
        "Render the controller's Packstack answer file for review: the release's parameters "
        "(or --from a packstack --gen-answer-file output) with site.yaml applied by key");
    add_site(answers_cmd, answers.site);
    answers_cmd
        ->add_option("--from", answers.from,
                     "Start from this answer file (packstack --gen-answer-file) instead "
                     "of the release's parameter table")
        ->check(CLI::ExistingFile);
    answers_cmd->add_option("-o,--output", answers.output,
                            "Write the answer file here (mode 0600, passwords included); "
                            "default: stdout with passwords masked");
    answers_cmd->add_flag("--show-passwords", answers.show_passwords,
                          "Print the passwords on stdout instead of masking them");
    add_secrets(answers_cmd, answers.secrets);

    cli::MirrorCliOptions mirror;
    auto* mirror_cmd = app.add_subcommand(
        "mirror", "Build the site's package repository (one closure per role) with airstrap.lock");
    add_site(mirror_cmd, mirror.site, false);
    mirror_cmd->add_option("-o,--output", mirror.output,
                           "Output folder (swapped in when complete)");
    mirror_cmd->add_option("--role", mirror.role, "Only this role's packages")
        ->check(CLI::IsMember({"controller", "network", "compute"}));
    mirror_cmd->add_flag("--all", mirror.all, "Mirror every package of every source");
    mirror_cmd->add_flag("--no-weak-deps", mirror.no_weak_deps, "Leave out Recommends/Supplements");
    mirror_cmd->add_flag("--allow-weak-checksums", mirror.allow_weak_checksums,
                         "Accept md5/sha1 repodata (very old repositories)");
    mirror_cmd->add_option("-j,--jobs", mirror.jobs, "Parallel workers")->check(CLI::Range(1, 64));
    mirror_cmd->add_flag("--dry-run", mirror.dry_run,
                         "Read the sources and solve every role's closure; say what would be "
                         "mirrored, fetch and write nothing (no -o needed)");
    add_json(mirror_cmd, mirror.json);
    mirror_cmd->add_option(
        "--verify", mirror.verify,
        "Re-check every package of an existing mirror against its airstrap.lock");

    cli::BuildIsoOptions iso;
    auto* build_cmd = app.add_subcommand("build", "Build install media for the site");
    build_cmd->require_subcommand(1);
    auto* iso_cmd = build_cmd->add_subcommand(
        "iso", "Remaster the vendor DVD into a hybrid site ISO (DVD and USB, BIOS and UEFI)");
    add_site(iso_cmd, iso.site);
    iso_cmd->add_option("-o,--output", iso.output, "The ISO to write")->required();
    iso_cmd->add_option("--iso", iso.vendor_iso, "The vendor DVD (default: media.vendor_iso)");
    iso_cmd->add_option("--repo", iso.repo, "The site repository ('airstrap mirror' output)")
        ->required();
    add_secrets(iso_cmd, iso.secrets);
    iso_cmd->add_option("--volid", iso.volume_id,
                        "A new volume label (default: keep the vendor's; menus follow)");
    iso_cmd->add_option("--append", iso.append,
                        "Extra kernel arguments for airstrap's boot entries (e.g. console=ttyS0)");
    iso_cmd->add_option("--timeout", iso.timeout, "Seconds before the default entry boots")
        ->check(CLI::Range(1, 3600));
    iso_cmd->add_option("--node", iso.node,
                        "Media for this node only (reprovisioning it): its entry is the default "
                        "and the only airstrap entry");
    add_json(iso_cmd, iso.json);

    cli::BuildQcow2Options qcow2;
    auto* qcow2_cmd = build_cmd->add_subcommand(
        "qcow2",
        "Build a bootable qcow2 disk image per node (libguestfs): the role's packages from the "
        "site repository, the repository baked in, the node's configuration, BIOS and UEFI");
    add_site(qcow2_cmd, qcow2.site);
    qcow2_cmd
        ->add_option("-o,--output", qcow2.output,
                     "The image file; with several nodes, a folder for NODE.qcow2")
        ->required();
    qcow2_cmd->add_option("--repo", qcow2.repo, "The site repository ('airstrap mirror' output)")
        ->required();
    auto* node_opt = qcow2_cmd->add_option("--node", qcow2.nodes, "A node to build (repeatable)");
    qcow2_cmd->add_flag("--all", qcow2.all, "Every node of the site")->excludes(node_opt);
    qcow2_cmd->add_option("--profile", qcow2.profile,
                          "Distro profile: el7, el8, el9 or a profile file (default: site "
                          "qcow2.profile, else the site's distro)");
    qcow2_cmd->add_option("--size", qcow2.size_gib, "Disk size in GiB (default: site qcow2.size)")
        ->check(CLI::Range(4, 65536));
    qcow2_cmd->add_flag("--compress", qcow2.compress, "Compress the images (qemu-img convert -c)");
    add_secrets(qcow2_cmd, qcow2.secrets);
    add_json(qcow2_cmd, qcow2.json);

    cli::BuildPxeOptions pxe;
    auto* pxe_cmd = build_cmd->add_subcommand(
        "pxe",
        "Write the PXE tree: TFTP (pxelinux, grub, one config per MAC), HTTP install "
        "tree, kickstarts, site repository, dnsmasq.conf and nginx.conf");
    add_site(pxe_cmd, pxe.site);
    pxe_cmd->add_option("-o,--output", pxe.output, "The folder to write (swapped in when complete)")
        ->required();
    pxe_cmd->add_option("--iso", pxe.vendor_iso, "The vendor DVD (default: media.vendor_iso)");
    pxe_cmd->add_option("--repo", pxe.repo, "The site repository ('airstrap mirror' output)")
        ->required();
    add_secrets(pxe_cmd, pxe.secrets);
    pxe_cmd
        ->add_option("--server-ip", pxe.server_ip,
                     "This server's address on the management network (DHCP, TFTP, HTTP)")
        ->required();
    pxe_cmd->add_option("--http-port", pxe.http_port, "The HTTP server's port")
        ->check(CLI::Range(1, 65535));
    pxe_cmd->add_option("--append", pxe.append,
                        "Extra kernel arguments for every entry (e.g. console=ttyS0)");
    pxe_cmd->add_option("--timeout", pxe.timeout, "Seconds before the menu's default boots")
        ->check(CLI::Range(1, 3600));
    pxe_cmd->add_flag("--allow-foreign-server-ip", pxe.allow_foreign_server_ip,
                      "Accept a --server-ip outside the management network (a NAT or port "
                      "forward between nodes and server, e.g. QEMU user networking's 10.0.2.2)");
    add_json(pxe_cmd, pxe.json);

    cli::ServeCliOptions serve;
    auto* serve_cmd = app.add_subcommand(
        "serve",
        "Serve a PXE tree: dnsmasq (DHCP, TFTP), nginx (HTTP) and the provisioning service "
        "(each node's kickstart to that node only while it is in build; its install report "
        "switches it to local boot) until Ctrl-C or until one ends. --status and --rebuild "
        "work beside a running serve");
    serve_cmd->add_option("DIR", serve.dir, "The 'airstrap build pxe' output")->required();
    serve_cmd->add_option("--interface", serve.interface,
                          "The NIC on the management network (dnsmasq --interface)");
    serve_cmd->add_option("--listen", serve.listen,
                          "Address nginx listens on instead of the tree's --server-ip (NAT)");
    serve_cmd->add_flag("--http-only", serve.http_only,
                        "Only HTTP: the site's own DHCP/TFTP server boots the nodes");
    serve_cmd
        ->add_option("--server-user", serve.server_user,
                     "As root: the user dnsmasq and nginx's workers run as (not the tree's "
                     "owner, who runs the service)")
        ->capture_default_str();
    auto* rebuild_opt = serve_cmd->add_option(
        "--rebuild", serve.rebuild,
        "Put NODE back into build: its next network boot installs it again; then exit");
    auto* status_opt = serve_cmd->add_flag(
        "--status", serve.status,
        "Print each node's state (build/local), phase, time in phase and last error; then exit");
    rebuild_opt->excludes(status_opt);
    add_json(serve_cmd, serve.json);

    cli::InventoryOptions inventory;
    auto* inventory_cmd = app.add_subcommand(
        "inventory",
        "Write a deployment tool's inventory for the site; kolla: DIR/multinode and "
        "DIR/globals.yml for kolla-ansible (for sites that outgrow Packstack)");
    add_site(inventory_cmd, inventory.site);
    inventory_cmd->add_option("--format", inventory.format, "The inventory's format: kolla")
        ->required()
        ->check(CLI::Validator(
            [](std::string& value) { return value == "kolla" ? "" : "expected: kolla"; }, "kolla",
            "format"));
    inventory_cmd->add_option("-o,--output", inventory.output, "Output folder (made if missing)")
        ->required();

    cli::LabCliOptions lab;
    auto* lab_cmd = app.add_subcommand(
        "lab",
        "Rehearse the whole site on this machine (root): each node's image booted in QEMU, one "
        "private L2 segment per site network in a network namespace of its own, each node's "
        "phase and first-boot step shown live from its serial console; exits 0 when the "
        "controller is done (or every node that runs --until STEP has done it), 1 naming the "
        "node and step that failed; keeps the serial logs, removes the rest (also on Ctrl-C)");
    add_site(lab_cmd, lab.site);
    add_secrets(lab_cmd, lab.secrets);
    auto* lab_repo = lab_cmd->add_option(
        "--repo", lab.repo,
        "The site repository to build the images from ('airstrap mirror' output)");
    lab_cmd
        ->add_option("--images", lab.images,
                     "Boot DIR/NODE.qcow2 ('airstrap build qcow2 --all -o DIR') instead of "
                     "building; they are never written (each VM boots an overlay)")
        ->excludes(lab_repo);
    lab_cmd->add_flag("--keep", lab.keep,
                      "Keep the run's folder (overlays, built images) and name it at the end");
    lab_cmd->add_option("--profile", lab.profile,
                        "Distro profile for the images built (as 'build qcow2 --profile')");
    lab_cmd->add_option("--size", lab.size_gib, "Disk size in GiB of the images built")
        ->check(CLI::Range(4, 65536));
    lab_cmd->add_option("--firmware", lab.firmware, "bios or uefi (OVMF)")
        ->check(CLI::IsMember({"bios", "uefi"}))
        ->capture_default_str();
    lab_cmd
        ->add_option("--accel", lab.accel,
                     "kvm, tcg, or auto: KVM when QEMU can use it, else TCG (said once)")
        ->check(CLI::IsMember({"auto", "kvm", "tcg"}))
        ->capture_default_str();
    lab_cmd->add_option("--until", lab.until,
                        "Stop with success once every node that runs STEP has done it (e.g. "
                        "packstack); an unknown step is refused with the list");
    lab_cmd
        ->add_option("--logs", lab.logs,
                     "Folder for NODE.serial.log and NODE.qemu.log (kept, 0700)")
        ->capture_default_str();
    lab_cmd->add_option("--timeout", lab.timeout, "Seconds before giving up")
        ->check(CLI::Range(10, 604800))
        ->capture_default_str();
    lab_cmd->add_option("--memory", lab.memory, "MiB of memory per VM")
        ->check(CLI::Range(256, 1048576))
        ->capture_default_str();
    lab_cmd->add_option("--cpu", lab.cpu,
                        "QEMU's CPU model and flags for every VM (e.g. qemu64,-svm,-vmx: a CPU "
                        "without virtualization); default host with KVM, QEMU's own with TCG");

    try {
        app.parse(argc, argv);
        if (*mirror_cmd && !mirror.verify &&
            (mirror.site.empty() || (mirror.output.empty() && !mirror.dry_run))) {
            throw CLI::ValidationError("mirror",
                                       "needs SITE and -o DIR (or --dry-run, or --verify DIR)");
        }
    } catch (const CLI::ParseError& e) {
        int code = app.exit(e);
        return code == 0 ? 0 : static_cast<int>(ExitCode::bad_input);
    }

    try {
        ExitCode code = ExitCode::ok;
        if (*init_cmd) code = cli::run_init(init);
        if (*validate_cmd) code = cli::run_validate(validate);
        if (*kickstart_cmd) code = cli::run_kickstart(kickstart);
        if (*node_config_cmd) code = cli::run_node_config(node_config);
        if (*answers_cmd) code = cli::run_answers(answers);
        if (*mirror_cmd) code = cli::run_mirror(mirror);
        if (*iso_cmd) code = cli::run_build_iso(iso);
        if (*pxe_cmd) code = cli::run_build_pxe(pxe);
        if (*qcow2_cmd) code = cli::run_build_qcow2(qcow2);
        if (*serve_cmd) code = cli::run_serve(serve);
        if (*inventory_cmd) code = cli::run_inventory(inventory);
        if (*lab_cmd) return cli::run_lab(lab);
        return static_cast<int>(code);
    } catch (const std::exception& e) {
        std::cerr << "airstrap: error: " << describe(e) << "\n";
        return static_cast<int>(exit_code_of(e));
    }
}
