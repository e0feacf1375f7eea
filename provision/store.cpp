#include "provision/store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.hpp"
#include "common/file_io.hpp"

namespace airstrap::provision {

namespace fs = std::filesystem;

namespace {

class Lock {
  public:
    Lock(const fs::path& path, int how) {
        // Read-only is enough for flock, and a lock file that root made (0644, empty) still
        // opens for the service's user.
        fd_ = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd_ < 0) throw SystemError("cannot open " + path.string(), errno);
        while (::flock(fd_, how) != 0) {
            if (errno != EINTR) {
                int e = errno;
                ::close(fd_);
                throw SystemError("cannot lock " + path.string(), e);
            }
        }
    }
    ~Lock() { ::close(fd_); }
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

  private:
    int fd_ = -1;
};

StateFile read_state(const fs::path& path) {
    if (!fs::exists(path)) {
        throw InputError(path.string() +
                         " is missing: rebuild the tree with 'airstrap build pxe', which "
                         "writes it");
    }
    try {
        return parse_state_json(read_file(path, 16 << 20), path.string());
    } catch (const InputError& e) {
        throw InputError(std::string(e.what()) +
                         ": the state file is damaged, so which nodes are installed is unknown; "
                         "fix it, or remove it and rebuild the tree (every node then installs "
                         "again on its next network boot)");
    }
}

}  // namespace

void write_owned_file(const fs::path& path, std::string_view text, mode_t mode) {
    AtomicFile out(path, mode);
    out.write(text);
    if (::geteuid() == 0) {
        struct stat st {};
        if (::stat(path.parent_path().c_str(), &st) == 0 && st.st_uid != 0) {
            if (::fchown(out.fd(), st.st_uid, st.st_gid) != 0) {
                throw SystemError(
                    "cannot give " + path.string() + " to uid " + std::to_string(st.st_uid), errno);
            }
        }
    }
    out.commit();
}

StateStore::StateStore(fs::path dir)
    : dir_(std::move(dir)), path_(dir_ / state_file), lock_(dir_ / lock_file) {}

StateFile StateStore::load() const {
    Lock lock(lock_, LOCK_SH);
    return read_state(path_);
}

StateFile StateStore::update(const std::function<bool(StateFile&)>& fn) {
    Lock lock(lock_, LOCK_EX);
    StateFile state = read_state(path_);
    if (fn(state)) write_owned_file(path_, state_json_text(state), 0600);
    return state;
}

void write_boot_files(const fs::path& dir, const NodeEntry& node, BuildState state) {
    for (const auto& f : node.boot_files) {
        write_owned_file(dir / f.path, state == BuildState::local ? f.local_text : f.build_text,
                         0644);
    }
}

}  // namespace airstrap::provision
