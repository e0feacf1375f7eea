// Which packages a node needs: libsolv (the solver dnf uses) over all source repositories,
// solving an install on an empty system. Filelists are loaded so file dependencies resolve;
// comps groups and environments are solvables named group:ID and environment:ID.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/checksum.hpp"

namespace airstrap::mirror {

struct PackageRef {
    std::string name, epoch, version, release, arch;
    std::string location;  // relative to its repository's root; checked safe
    ChecksumType checksum_type = ChecksumType::sha256;
    std::string checksum;
    std::uint64_t size = 0;
    std::size_t repo = 0;  // index given by PackagePool::add_repo

    std::string nevra() const;      // name-[epoch:]version-release.arch
    std::string file_name() const;  // the location's last part
};

struct RepoMetadata {
    std::string name;       // for messages: "CentOS-7.iso:BaseOS"
    std::string primary;    // decompressed XML
    std::string filelists;  // decompressed XML, may be empty
    std::string comps;      // decompressed XML, may be empty
};

struct ClosureRequest {
    std::vector<std::string> install;   // names, @group, @^environment (kickstart syntax)
    std::vector<std::string> optional;  // installed when present (bootloaders differ by distro)
    std::vector<std::string> exclude;   // never installed
    bool weak_deps = true;              // Recommends/Supplements pulled in
};

class PackagePool {
  public:
    explicit PackagePool(const std::string& arch = "x86_64");
    ~PackagePool();
    PackagePool(const PackagePool&) = delete;
    PackagePool& operator=(const PackagePool&) = delete;

    // Adds a repository; returns its index. InputError naming it when its XML is unreadable
    // or a package's location is unsafe.
    std::size_t add_repo(const RepoMetadata& repo);
    // Leaves out packages (modular filtering); call before the first closure().
    void hide(const std::vector<std::string>& nevras);

    // Every package; with include_hidden, also those hide() left out (a full mirror keeps
    // every module stream, so that nodes can switch streams later).
    std::vector<PackageRef> all_packages(bool include_hidden = false);
    // Whether some visible package is named or provides `name`.
    bool has(const std::string& name);
    // The packages an empty system needs for `request`. InputError listing every problem
    // ("nothing provides /bin/sh needed by chrony-4.1-1.noarch") when it has no solution.
    std::vector<PackageRef> closure(const ClosureRequest& request);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace airstrap::mirror
