// An image's root file system put together on this host, as mock, osbuild and mkosi do: a
// folder (the staging tree) that the image's own programs (rpm, systemctl, dracut) run
// chrooted into, each in new mount, PID, network, IPC and UTS namespaces: the tree gets a
// fresh /proc of its own PID namespace, a /dev of six bound device nodes (null, zero, full,
// random, urandom, tty) on a tmpfs, the host's /sys read-only, a tmpfs /run, and the
// folders the caller binds in read-only (the site repository); nothing in it has a network
// but its own loopback, and every process it starts ends with the command (PID 1 of its
// namespace). Needs root: rpm gives files to their packages' users and groups, which a user
// namespace of one mapped user cannot do.
//
// Who can do what: the programs run as root with the host's kernel, as they would on the
// node (they come from the site repository, checked against its lock by `airstrap mirror`);
// a chroot is not a wall against root, the namespaces keep their mounts, processes and
// network from the host's. The tree is under the output's private scratch folder (0700).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/subprocess.hpp"

namespace airstrap::builder {

// A host folder bound read-only into the tree at `inside` (absolute).
struct StagingBind {
    std::filesystem::path host;
    std::string inside;
};

// Why trees cannot be staged on this host (not root), or "" when they can.
std::string staging_unavailable();

class StagingTree {
  public:
    // Creates `root` (0755): it becomes the image's /.
    explicit StagingTree(std::filesystem::path root);
    const std::filesystem::path& root() const { return root_; }
    // A path inside the tree as a host path: root()/inside.
    std::filesystem::path host_path(const std::string& inside) const;

    // argv chrooted into the tree (argv[0] found in /usr/sbin, /usr/bin, /sbin, /bin unless it
    // has a '/'), with a plain environment (PATH, HOME=/root, LANG=C.UTF-8, SYSTEMD_OFFLINE=1)
    // and standard input from /dev/null. SystemError when the namespaces cannot be made.
    ProcessResult run(const std::vector<std::string>& argv,
                      const std::vector<StagingBind>& binds = {}) const;
    // run(), throwing Error("'ARGV' in the staging tree failed (exit N): OUTPUT") unless it
    // exits 0; returns the output.
    std::string command(const std::vector<std::string>& argv,
                        const std::vector<StagingBind>& binds = {}) const;

  private:
    std::filesystem::path root_;
};

}  // namespace airstrap::builder
