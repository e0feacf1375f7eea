// `airstrap lab`: the site's nodes, NICs and first-boot plans onto lab/lab.hpp; the images
// from --images or built with builder/qcow2.hpp into the run's scratch folder.
#include "cli/lab_commands.hpp"

#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "builder/qcow2.hpp"
#include "cli/inputs.hpp"
#include "common/error.hpp"
#include "common/text.hpp"
#include "firstboot/daemon.hpp"
#include "lab/console.hpp"
#include "lab/lab.hpp"
#include "site/site_json.hpp"

namespace airstrap::cli {

namespace fs = std::filesystem;

int run_lab(const LabCliOptions& o) {
    auto loaded = load_site_and_secrets(o.site, o.secrets);
    if (!loaded) return static_cast<int>(ExitCode::bad_input);
    const site::Site& site = loaded->site();

    lab::LabOptions options;
    options.site = site.name;
    for (const auto& net : site.networks) options.networks.push_back(net.name);
    node::Site node_site = site::node_site(site, loaded->keys());
    std::vector<lab::NodeProgress> plans;
    for (const auto& n : site.nodes) {
        lab::LabNode node;
        node.name = n.name;
        node.controller = n.role == site::Role::controller;
        if (!n.bonds.empty() ||
            std::any_of(n.interfaces.begin(), n.interfaces.end(),
                        [&](const site::Interface& i) { return site.device_of(i) != i.name; })) {
            throw InputError(o.site.string() + ": node " + n.name +
                             ": airstrap lab gives each interface a NIC of its own on a plain "
                             "segment; bonds and VLANs are not rehearsed yet");
        }
        if (n.disks.layout == site::SystemLayout::raid1) {
            throw InputError(o.site.string() + ": node " + n.name +
                             ": airstrap lab boots each node from one disk; RAID1 system disks "
                             "are not rehearsed yet (build qcow2 makes their images)");
        }
        for (const auto& i : n.interfaces) {
            if (i.mac.empty()) {
                throw InputError(o.site.string() + ": node " + n.name + ", interface " + i.name +
                                 ": no mac: the lab gives each NIC the site's MAC (the node "
                                 "recognises itself by it); add one");
            }
            node.nics.push_back({i.network, i.mac, i.name});
        }
        node.plan = firstboot::plan_for(node_site, *node_site.node(n.name));
        plans.push_back({node.name, node.plan, node.controller});
        options.nodes.push_back(std::move(node));
    }
    try {
        lab::check_nic_names(options.nodes);
    } catch (const InputError& e) {
        throw InputError(o.site.string() + ": " + e.what());
    }
    if (!o.until.empty()) {
        lab::check_until(o.until, plans);
        options.until = o.until;
    }
    if (o.images) {
        std::vector<std::string> missing;
        for (auto& n : options.nodes) {
            n.image = *o.images / (n.name + ".qcow2");
            std::error_code ec;
            if (!fs::is_regular_file(n.image, ec)) missing.push_back(n.image.string());
        }
        if (!missing.empty()) {
            throw InputError("--images " + o.images->string() + ": no " +
                             text::join(missing, ", ") +
                             "; build them with 'airstrap build qcow2 " + o.site.string() +
                             " --repo REPO --all -o " + o.images->string() +
                             "', or leave --images out and give --repo");
        }
    } else if (o.repo.empty()) {
        throw InputError("give --repo REPO (the images are built from it) or --images DIR");
    }
    if (::geteuid() != 0) {
        throw InputError(
            "airstrap lab needs root: it makes a network namespace with a bridge per site "
            "network and a tap per NIC (run it as root, e.g. with sudo)");
    }
    if (o.firmware == "uefi") options.firmware = lab::Firmware::uefi;
    if (o.accel == "kvm") options.accel = lab::Accel::kvm;
    if (o.accel == "tcg") options.accel = lab::Accel::tcg;
    options.memory_mib = o.memory;
    if (!o.cpu.empty() && !lab::valid_cpu_model(o.cpu)) {
        throw InputError("--cpu '" + o.cpu +
                         "': expected a QEMU CPU model and its flags (letters, digits and . _ - + "
                         "= , only), e.g. qemu64,-svm,-vmx; 'qemu-system-x86_64 -cpu help' lists "
                         "the models");
    }
    options.cpu = o.cpu;
    options.timeout = std::chrono::seconds(o.timeout);
    options.logs = fs::absolute(o.logs);
    options.tty = ::isatty(1) != 0;

    lab::make_logs_folder(options.logs);
    lab::ScratchDir scratch(options.logs, ".run-", o.keep);
    options.scratch = scratch.path();

    SystemCommandRunner runner;
    // A Ctrl-C on the terminal also reaches the build's own processes (libguestfs's QEMU …),
    // which makes the build fail; SIGINT or SIGTERM to airstrap alone is seen after it.
    // Either way the scratch folder goes.
    lab::InterruptGuard interrupt;
    if (!o.images) {
        builder::Qcow2Options build;
        build.repo = o.repo;
        build.profile = o.profile;
        build.size_gib = o.size_gib;
        build.output = scratch.path() / "images";
        for (const auto& n : options.nodes) build.nodes.push_back(n.name);
        build.log = [](const std::string& line) { std::cerr << "airstrap: " << line << "\n"; };
        builder::Qcow2Summary summary;
        try {
            summary = builder::build_qcow2(site, loaded->keys(), build, runner);
        } catch (const std::exception& e) {
            if (!lab::InterruptGuard::signal()) throw;
            std::cerr << "airstrap: error: interrupted while building the images (" << describe(e)
                      << ")\n";
            return static_cast<int>(ExitCode::failure);
        }
        for (auto& n : options.nodes) n.image = builder::qcow2_output_for(build, n.name);
        std::cerr << "airstrap: built " << summary.images.size() << " images (" << summary.profile
                  << ") in " << build.output.string() << "\n";
    }
    if (lab::InterruptGuard::signal()) {
        std::cerr << "airstrap: error: interrupted while building the images\n";
        return static_cast<int>(ExitCode::failure);
    }
    return lab::run_lab(options, runner);
}

}  // namespace airstrap::cli
