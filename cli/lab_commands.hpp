// `airstrap lab`: its flags (main.cpp) and its one function (lab_commands.cpp).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace airstrap::cli {

struct LabCliOptions {
    std::filesystem::path site;
    std::optional<std::filesystem::path> secrets;
    std::filesystem::path repo;                   // to build the images (not with --images)
    std::optional<std::filesystem::path> images;  // DIR/NODE.qcow2, already built
    bool keep = false;
    std::string profile;
    std::optional<int> size_gib;
    std::string firmware = "bios";
    std::string accel = "auto";
    std::string until;
    std::filesystem::path logs = "lab-logs";
    int timeout = 3600;
    int memory = 1024;
    std::string cpu;  // QEMU's -cpu; empty: host with KVM, QEMU's default with TCG
};
// The process exit code: 0 passed, 1 failed (or interrupted), 2 bad input or not root.
int run_lab(const LabCliOptions& options);

}  // namespace airstrap::cli
