#include "repo-mirror/tree.hpp"

#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/error.hpp"
#include "common/text.hpp"
#include "repo-mirror/archive.hpp"

namespace airstrap::mirror {

namespace fs = std::filesystem;

bool is_safe_relative_path(std::string_view path) {
    if (path.empty() || path.front() == '/' || path.find('\0') != std::string_view::npos ||
        path.find('\\') != std::string_view::npos) {
        return false;
    }
    for (const auto& part : text::split(path, '/')) {
        if (part.empty() || part == "." || part == "..") return false;
    }
    return true;
}

std::string SourceTree::read(const std::string& path, std::size_t max_bytes) {
    auto it = files_.find(path);
    if (it == files_.end()) throw InputError(name_ + ": no " + path);
    if (it->second > max_bytes) {
        throw InputError(name_ + ": " + path + " is " + std::to_string(it->second) +
                         " bytes, more than the " + std::to_string(max_bytes) + " allowed");
    }
    std::string out;
    stream({path}, [&](const std::string&, ByteStream& in) {
        char buf[65536];
        while (std::size_t n = in.read(buf, sizeof buf)) {
            if (out.size() + n > max_bytes) throw InputError(name_ + ": " + path + " is too large");
            out.append(buf, n);
        }
    });
    return out;
}

namespace {

class FdStream : public ByteStream {
  public:
    FdStream(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
    std::size_t read(char* buf, std::size_t size) override {
        while (true) {
            ssize_t n = ::read(fd_, buf, size);
            if (n >= 0) return static_cast<std::size_t>(n);
            if (errno != EINTR) throw SystemError("cannot read " + name_, errno);
        }
    }

  private:
    int fd_;
    std::string name_;
};

class DirectoryTree : public SourceTree {
  public:
    explicit DirectoryTree(const fs::path& dir) : SourceTree(dir.string()), dir_(dir) {
        std::error_code ec;
        if (!fs::is_directory(dir, ec)) throw InputError(dir.string() + ": not a folder");
        for (auto it = fs::recursive_directory_iterator(dir, ec);
             !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
            if (it->is_symlink()) continue;
            if (it->is_regular_file()) {
                files_[it->path().lexically_relative(dir).generic_string()] = it->file_size();
            }
        }
        if (ec) throw SystemError("cannot list " + dir.string(), ec.value());
    }

    void stream(const std::set<std::string>& wanted,
                const std::function<void(const std::string&, ByteStream&)>& fn) override {
        for (const auto& path : wanted) {
            if (!files_.contains(path)) continue;
            fs::path full = dir_ / path;
            int fd = ::open(full.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
            if (fd < 0) throw SystemError("cannot open " + full.string(), errno);
            FdStream in(fd, full.string());
            try {
                fn(path, in);
            } catch (...) {
                ::close(fd);
                throw;
            }
            ::close(fd);
        }
    }

  private:
    fs::path dir_;
};

class ArchiveStream : public ByteStream {
  public:
    ArchiveStream(ArchiveReader& a, const std::string& name) : a_(a), prefix_(name + ": ") {}
    std::size_t read(char* buf, std::size_t size) override { return a_.read(buf, size, prefix_); }

  private:
    ArchiveReader& a_;
    std::string prefix_;  // of an error message
};

class ArchiveTree : public SourceTree {
  public:
    explicit ArchiveTree(const fs::path& file) : SourceTree(file.string()), file_(file) {
        // One pass over the headers: the index, and the safety checks.
        ArchiveReader a = open();
        while (archive_entry* entry = a.next(name_ + ": cannot read the archive: ")) {
            std::string path = entry_path(entry);
            check_entry(entry, path);
            if (archive_entry_filetype(entry) == AE_IFREG && !path.empty()) {
                files_[path] = static_cast<std::uint64_t>(archive_entry_size(entry));
            }
        }
    }

    void stream(const std::set<std::string>& wanted,
                const std::function<void(const std::string&, ByteStream&)>& fn) override {
        std::set<std::string> left;
        for (const auto& w : wanted) {
            if (files_.contains(w)) left.insert(w);
        }
        if (left.empty()) return;
        ArchiveReader a = open();
        archive_entry* entry = nullptr;
        while (!left.empty() && (entry = a.next_or_end())) {
            std::string path = entry_path(entry);
            auto it = left.find(path);
            if (it == left.end() || archive_entry_filetype(entry) != AE_IFREG) continue;
            left.erase(it);
            ArchiveStream in(a, name_ + ": " + path);
            fn(path, in);
        }
        if (!left.empty()) {
            throw InputError(name_ + ": " + *left.begin() + " vanished while reading the archive");
        }
    }

  private:
    ArchiveReader open() const {
        ArchiveReader a(ArchiveReader::iso9660 | ArchiveReader::tar, /*tolerate_warnings=*/true);
        a.open_file(file_, 1 << 20, name_ + ": not an ISO image or tar archive (", ")");
        return a;
    }

    // The entry's path without a leading "./"; "" for the root itself.
    static std::string entry_path(archive_entry* entry) {
        const char* p = archive_entry_pathname(entry);
        std::string path = p ? p : "";
        while (path.starts_with("./")) path.erase(0, 2);
        while (!path.empty() && path.back() == '/') path.pop_back();
        return path;
    }

    void check_entry(archive_entry* entry, const std::string& path) const {
        const char* raw = archive_entry_pathname(entry);
        std::string shown = raw ? raw : "(no name)";
        if (path.empty() || path == ".") return;
        if (!is_safe_relative_path(path)) {
            throw InputError(name_ + ": refusing the archive: entry '" + shown +
                             "' is absolute or climbs out with '..'");
        }
        auto type = archive_entry_filetype(entry);
        if (type == AE_IFCHR || type == AE_IFBLK || type == AE_IFIFO || type == AE_IFSOCK) {
            throw InputError(name_ + ": refusing the archive: entry '" + shown +
                             "' is a device, fifo or socket");
        }
        const char* hard = archive_entry_hardlink(entry);
        if (hard &&
            !is_safe_relative_path(std::string(hard).starts_with("./") ? std::string(hard).substr(2)
                                                                       : std::string(hard))) {
            throw InputError(name_ + ": refusing the archive: hard link '" + shown +
                             "' points outside it");
        }
        if (type == AE_IFLNK) {
            const char* target = archive_entry_symlink(entry);
            std::string t = target ? target : "";
            // Resolve against the link's folder; it must stay inside the archive.
            fs::path resolved = (fs::path(path).parent_path() / t).lexically_normal();
            if (t.empty() || t.front() == '/' || resolved.empty() || *resolved.begin() == "..") {
                throw InputError(name_ + ": refusing the archive: symlink '" + shown + "' -> '" +
                                 t + "' points outside it");
            }
        }
    }

    fs::path file_;
};

}  // namespace

std::unique_ptr<SourceTree> open_directory(const fs::path& dir) {
    return std::make_unique<DirectoryTree>(dir);
}

std::unique_ptr<SourceTree> open_archive(const fs::path& file) {
    return std::make_unique<ArchiveTree>(file);
}

std::unique_ptr<SourceTree> open_tree(const fs::path& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) return open_directory(path);
    if (!fs::exists(path, ec)) throw InputError(path.string() + ": no such file or folder");
    return open_archive(path);
}

}  // namespace airstrap::mirror
