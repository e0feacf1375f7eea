// `airstrap lab`: a whole site rehearsed on one machine. Every node boots in QEMU from an
// overlay on its image (the image is never written), its NICs on one private L2 segment per
// site network inside a network namespace of our own; each node's phase and first-boot step
// is read live from its serial console (lab/console.hpp) until the controller is done (or
// every node that runs --until STEP has done it), a step gives up, a VM dies, the time is
// up, or SIGINT/SIGTERM. The serial logs stay; the VMs, the namespace (bridges and taps
// with it) and the overlays go, whatever the way out.
#pragma once

#include <chrono>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "common/subprocess.hpp"
#include "lab/vm.hpp"

namespace airstrap::lab {

struct LabNic {
    std::string network;  // the site network's name
    std::string mac;
    std::string device;  // the site's name for it (ens3 …): it decides the NIC's PCI slot
};

struct LabNode {
    std::string name;
    bool controller = false;
    std::filesystem::path image;    // read only: the VM boots an overlay on it
    std::vector<LabNic> nics;       // the node's NICs in the site's order
    std::vector<std::string> plan;  // its first-boot steps (firstboot::plan_for)
};

struct LabOptions {
    std::string site;                   // the site's name, for messages
    std::vector<std::string> networks;  // the site's networks in order: one bridge each
    std::vector<LabNode> nodes;
    std::optional<std::string> until;  // a step name (check_until first)
    std::filesystem::path logs;        // kept: NODE.serial.log, NODE.qemu.log (0700/0600)
    std::filesystem::path scratch;     // overlays, UEFI variable stores (the caller's ScratchDir)
    Firmware firmware = Firmware::bios;
    std::optional<Accel> accel;  // none: KVM when QEMU can use it, else TCG (said once)
    int memory_mib = 1024;
    std::string cpu;  // QEMU's -cpu (valid_cpu_model); empty: host with KVM, else QEMU's own
    std::chrono::seconds timeout{3600};
    std::string qemu = "qemu-system-x86_64";
    std::string qemu_img = "qemu-img";
    std::filesystem::path ovmf_code, ovmf_vars;  // empty: OVMF's from /usr/share/OVMF
    std::ostream* out = nullptr;                 // the live status (default std::cout)
    bool tty = false;                            // redraw one line per node in place
};

// Refuses a NIC whose site name no VM can give it (nic_slot): the node's network
// configuration is for that name and would never apply. InputError naming node and NIC.
void check_nic_names(const std::vector<LabNode>& nodes);

// Runs the rehearsal; returns 0 when it passed, 1 when it failed (the node and step named),
// timed out or was interrupted. Throws for what stops it before any VM runs (Error, or
// InputError for bad options), with everything it made removed.
int run_lab(const LabOptions& options, CommandRunner& runner);

// The logs folder: made 0700 when missing (its parents as usual); an existing folder keeps
// its mode (it may be the operator's, even /tmp): the files in it are 0600 anyway.
void make_logs_folder(const std::filesystem::path& logs);

// A folder of our own (0700) for what does not outlive the run: removed with everything in
// it by the destructor, unless `keep`, when it is named on stderr instead.
class ScratchDir {
  public:
    ScratchDir(const std::filesystem::path& parent, const std::string& prefix, bool keep);
    ~ScratchDir();
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
    bool keep_;
};

// SIGINT and SIGTERM set a flag instead of ending us while one of these lives (the previous
// handlers come back after it), so that the owners above can clean up. Guards nest: a signal
// caught by an outer one is still seen inside.
class InterruptGuard {
  public:
    InterruptGuard();
    ~InterruptGuard();
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;
    // The signal that came (0: none yet).
    static int signal();
};

}  // namespace airstrap::lab
