#include "lab/vm.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/error.hpp"
#include "lab/lab.hpp"
#include "lab/netns.hpp"

namespace airstrap::lab {
namespace {

namespace fs = std::filesystem;

std::string joined(const std::vector<std::string>& argv) {
    std::string s;
    for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
    return s;
}

TEST(QemuArgv, BiosTwoNics) {
    VmSpec s;
    s.node = "network-node";
    s.disk = "/l/run,1/network-node.overlay.qcow2";
    s.serial_log = "/l/network-node.serial.log";
    s.memory_mib = 768;
    s.nics = {{"t1n0", "00:0c:29:2c:6f:6f", 3}, {"t1n1", "00:0c:29:2c:6f:79", 17}};
    EXPECT_EQ(joined(qemu_argv(s)),
              "qemu-system-x86_64 -name network-node -machine pc,accel=tcg -m 768 -smp 1 "
              "-nodefaults -no-user-config -display none -serial file:/l/network-node.serial.log "
              "-drive file=/l/run,,1/network-node.overlay.qcow2,if=virtio,format=qcow2 "
              "-netdev tap,id=nic0,ifname=t1n0,script=no,downscript=no "
              "-device virtio-net-pci,netdev=nic0,mac=00:0c:29:2c:6f:6f,addr=0x3 "
              "-netdev tap,id=nic1,ifname=t1n1,script=no,downscript=no "
              "-device virtio-net-pci,netdev=nic1,mac=00:0c:29:2c:6f:79,addr=0x11");
}

TEST(QemuArgv, CpuModel) {
    VmSpec s;
    s.node = "c";
    s.disk = "/i/c.qcow2";
    s.serial_log = "/l/c.log";
    s.cpu = "qemu64,-svm,-vmx";
    EXPECT_NE(joined(qemu_argv(s)).find(" -cpu qemu64,-svm,-vmx "), std::string::npos);
    s.accel = Accel::kvm;  // an explicit model wins over KVM's "host"
    EXPECT_EQ(joined(qemu_argv(s)).find("-cpu host"), std::string::npos);
    EXPECT_TRUE(valid_cpu_model("host"));
    EXPECT_TRUE(valid_cpu_model("Skylake-Server,+vmx,l3-cache=on"));
    for (const char* bad : {"", "-svm", ",x", "qemu64 -drive", "qemu64\n", "a;b", "q/x"}) {
        EXPECT_FALSE(valid_cpu_model(bad)) << bad;
    }
}

TEST(NicSlot, EnsThreeToThirtyOne) {
    EXPECT_EQ(nic_slot("ens3"), 3);
    EXPECT_EQ(nic_slot("ens4"), 4);
    EXPECT_EQ(nic_slot("ens31"), 31);
    // Names QEMU's PCI slots cannot give: VMware's, the disk's and bridges' slots, others.
    for (const char* bad : {"ens32", "ens34", "ens2", "ens0", "ens03", "ens", "ens3a", "eth0",
                            "enp0s3", "eno1", "ens123", ""}) {
        EXPECT_FALSE(nic_slot(bad)) << bad;
    }
}

TEST(QemuArgv, UefiKvmSnapshot) {
    VmSpec s;
    s.node = "c";
    s.accel = Accel::kvm;
    s.firmware = Firmware::uefi;
    s.ovmf_code = "/usr/share/OVMF/OVMF_CODE_4M.fd";
    s.ovmf_vars = "/l/c.OVMF_VARS.fd";
    s.disk = "/i/c.qcow2";
    s.snapshot = true;
    s.serial_log = "/l/c.log";
    std::string a = joined(qemu_argv(s));
    EXPECT_NE(a.find("-machine pc,accel=kvm"), std::string::npos) << a;
    EXPECT_NE(a.find("-cpu host"), std::string::npos) << a;
    EXPECT_NE(
        a.find(
            "-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd "
            "-drive if=pflash,format=raw,unit=1,file=/l/c.OVMF_VARS.fd"),
        std::string::npos)
        << a;
    EXPECT_NE(a.find("file=/i/c.qcow2,if=virtio,format=qcow2,snapshot=on"), std::string::npos) << a;
    EXPECT_EQ(a.find("-netdev"), std::string::npos) << a;
}

TEST(NicNames, VmwareNamesRefusedBeforeAnything) {
    std::vector<LabNode> nodes(2);
    nodes[0].name = "controller-node";
    nodes[0].nics = {{"management", "00:0c:29:3a:10:10", "ens3"}};
    nodes[1].name = "network-node";
    nodes[1].nics = {{"management", "00:0c:29:2c:6f:6f", "ens3"},
                     {"external", "00:0c:29:2c:6f:79", "ens4"}};
    EXPECT_NO_THROW(check_nic_names(nodes));
    nodes[1].nics[1].device = "ens34";
    try {
        check_nic_names(nodes);
        FAIL();
    } catch (const InputError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "network-node, interface ens34: a VM cannot have a NIC of that name (a virtio "
                  "NIC in QEMU's PCI slot N is ensN, N from 3 to 31), so the node's network "
                  "configuration would not apply; rehearse a copy of the site whose NICs are "
                  "named ens3, ens4, … (scripts/rehearse makes one)");
    }
}

struct TempDir {
    fs::path path;
    TempDir() {
        std::string t = (fs::temp_directory_path() / "lab-test-XXXXXX").string();
        path = ::mkdtemp(t.data());
    }
    ~TempDir() { fs::remove_all(path); }
};

bool alive(pid_t pid) {
    return ::kill(pid, 0) == 0;
}

TEST(ChildProcess, StoppedAndReapedByTheDestructor) {
    TempDir t;
    pid_t pid;
    {
        ChildProcess p({"sleep", "100"}, "", t.path / "out.log");
        pid = p.pid();
        EXPECT_TRUE(alive(pid));
        EXPECT_FALSE(p.poll());
    }
    EXPECT_FALSE(alive(pid));  // reaped: not even a zombie
    struct stat st {};
    ASSERT_EQ(::stat((t.path / "out.log").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(ChildProcess, OutputAndExitStatus) {
    TempDir t;
    ChildProcess p({"sh", "-c", "echo out; echo err >&2; exit 3"}, "", t.path / "out.log");
    std::optional<int> status;
    for (int i = 0; i < 200 && !(status = p.poll()); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_TRUE(status);
    EXPECT_EQ(*status, 3);
    std::ifstream in(t.path / "out.log");
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(ss.str(), "out\nerr\n");
}

TEST(ChildProcess, IgnoringSigtermGetsKilled) {
    TempDir t;
    ChildProcess p({"sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done"}, "",
                   t.path / "out.log");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(p.stop(std::chrono::milliseconds(300)), 128 + SIGKILL);
}

TEST(ChildProcess, MissingProgramIsAnError) {
    TempDir t;
    try {
        ChildProcess p({"/nonexistent/qemu"}, "", t.path / "out.log");
        FAIL();
    } catch (const SystemError& e) {
        EXPECT_NE(std::string(e.what()).find("cannot run /nonexistent/qemu"), std::string::npos)
            << e.what();
    }
}

TEST(ChildProcess, MissingNamespaceIsAnError) {
    TempDir t;
    EXPECT_THROW(ChildProcess({"true"}, "airstrap-no-such-namespace", t.path / "o.log"),
                 SystemError);
}

class RecordingRunner : public CommandRunner {
  public:
    std::vector<std::string> commands;
    int fail_at = -1;
    ProcessResult run(const std::vector<std::string>& argv) override {
        commands.push_back(joined(argv));
        if (static_cast<int>(commands.size()) - 1 == fail_at)
            return {1, "RTNETLINK answers: File exists\n"};
        return {0, ""};
    }
};

TEST(NetNamespace, MadeAndDeleted) {
    RecordingRunner r;
    {
        NetNamespace ns("airstrap-lab-1", r);
        ns.add_bridge("br0");
        ns.add_tap("t0n0", "br0");
    }
    EXPECT_EQ(r.commands, (std::vector<std::string>{
                              "ip netns add airstrap-lab-1",
                              "ip -n airstrap-lab-1 link set lo up",
                              "ip -n airstrap-lab-1 link add br0 type bridge",
                              "ip -n airstrap-lab-1 link set br0 up",
                              "ip -n airstrap-lab-1 tuntap add dev t0n0 mode tap",
                              "ip -n airstrap-lab-1 link set t0n0 master br0 up",
                              "ip netns del airstrap-lab-1",
                          }));
}

TEST(NetNamespace, DeletedWhenAStepFails) {
    RecordingRunner r;
    r.fail_at = 2;
    {
        NetNamespace ns("airstrap-lab-1", r);
        EXPECT_THROW(ns.add_bridge("br0"), Error);
    }
    EXPECT_EQ(r.commands.back(), "ip netns del airstrap-lab-1");
}

TEST(NetNamespace, NotMadeNotDeleted) {
    RecordingRunner r;
    r.fail_at = 0;
    EXPECT_THROW(NetNamespace("airstrap-lab-1", r), Error);
    EXPECT_EQ(r.commands.size(), 1u);
}

}  // namespace
}  // namespace airstrap::lab
