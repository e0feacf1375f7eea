// DIR/state/nodes.json on disk: every change a read-modify-write under an exclusive
// flock(2) of DIR/state/lock, written through a temp file and renamed into place, so that
// `airstrap serve` and `airstrap serve --rebuild` (another process) never lose each other's
// change and a crash leaves the old file or the new one.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "provision/state.hpp"
#include "provision/tree.hpp"

namespace airstrap::provision {

class StateStore {
  public:
    explicit StateStore(std::filesystem::path dir);  // the PXE tree

    // The current file (a shared lock while reading). InputError naming the file when it is
    // missing or not a state file.
    StateFile load() const;
    // Locks, loads, calls fn and, when fn returns true, writes the result. Returns what is
    // now on disk.
    StateFile update(const std::function<bool(StateFile&)>& fn);

    const std::filesystem::path& path() const noexcept { return path_; }

  private:
    std::filesystem::path dir_, path_, lock_;
};

// Writes each of the node's boot files in the variant of `state`, each through a temp file
// renamed into place (a TFTP client reads the old text or the new one). Files are 0644 and,
// when written by root, given to the owner of their folder (the service's user).
void write_boot_files(const std::filesystem::path& dir, const NodeEntry& node, BuildState state);

// Text written by root into a folder owned by another user: the file is given to that user,
// so that the service, which runs as the tree's owner, can replace it later.
void write_owned_file(const std::filesystem::path& path, std::string_view text, mode_t mode);

}  // namespace airstrap::provision
