// A VM of the lab: QEMU's command line for one node (pure, tested) and the one owner of a
// child process (QEMU), which stops and reaps it when it goes out of scope.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace airstrap::lab {

enum class Firmware { bios, uefi };
enum class Accel { kvm, tcg };

struct VmNic {
    std::string tap;  // in the lab's namespace, on its network's bridge
    std::string mac;
    int slot = 0;  // its PCI slot on QEMU's root bus (nic_slot); 0: QEMU picks
};

// The PCI slot in which a virtio NIC gets the name `device` from systemd's predictable naming
// on QEMU's i440fx machine: ensN is slot N, N from 3 to 31 (0 and 1 are the host bridge and
// the ISA bridge, 2 is left to the disk). None for any other name: QEMU cannot make VMware's
// ens32 and up, a bus-path name (enp…) or the kernel's ethN for certain.
std::optional<int> nic_slot(const std::string& device);

// A QEMU -cpu value we pass on: a model and +flag/-flag/key=value options, nothing that could
// start another QEMU option (letters, digits, and . _ - + = , only; not empty, not leading -).
bool valid_cpu_model(const std::string& cpu);

struct VmSpec {
    std::string node;
    std::string qemu = "qemu-system-x86_64";
    Accel accel = Accel::tcg;
    Firmware firmware = Firmware::bios;
    std::filesystem::path ovmf_code, ovmf_vars;  // uefi: the firmware and this VM's own copy
    int memory_mib = 1024;
    int cpus = 1;
    std::string cpu;                   // -cpu; empty: host with KVM, QEMU's default with TCG
    std::filesystem::path disk;        // the VM's overlay (qcow2), or the image with snapshot
    bool snapshot = false;             // -drive snapshot=on: the disk is never written
    std::filesystem::path serial_log;  // the serial console (ttyS0)
    std::vector<VmNic> nics;           // in the site's order: the node's NICs
};

// QEMU's argv for `spec`: no display, no default devices, the serial console to its file, a
// virtio disk and one virtio-net per NIC with the site's MAC on its tap (in its slot). Commas
// in paths are doubled as QEMU's option syntax wants.
std::vector<std::string> qemu_argv(const VmSpec& spec);

// A running child process with one owner: started in a process group of its own (so that a
// Ctrl-C on the terminal reaches only us, and we stop it in order), optionally inside a named
// network namespace (/run/netns/NAME, setns in the child), stdin /dev/null, stdout and stderr
// appended to `output` (0600). The destructor stops it (SIGTERM, then SIGKILL) and reaps it.
class ChildProcess {
  public:
    // SystemError naming argv[0] when it cannot be started (not found, namespace missing).
    ChildProcess(const std::vector<std::string>& argv, const std::string& netns,
                 const std::filesystem::path& output);
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const { return pid_; }
    // Its wait status (as exit codes go: 128 + signal when killed) once it has ended; reaps it.
    std::optional<int> poll();
    // SIGTERM, then SIGKILL after `grace`; reaps it. Returns how it ended.
    int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(3000));

  private:
    pid_t pid_ = -1;
    std::optional<int> status_;
};

}  // namespace airstrap::lab
