// Streaming file checksums as repodata names them (sha256, sha512, sha384, sha224, sha1,
// md5), through OpenSSL's EVP interface.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace airstrap {

enum class ChecksumType { md5, sha1, sha224, sha256, sha384, sha512 };

// "sha256" → sha256; "sha" is sha1, as old repodata writes it. Nothing for unknown names.
std::optional<ChecksumType> checksum_type_from_name(std::string_view name);
const char* checksum_type_name(ChecksumType type);
// sha224 and up; repodata with md5 or sha1 is accepted only when the site allows it.
bool is_strong(ChecksumType type);

class Hasher {
  public:
    explicit Hasher(ChecksumType type);
    ~Hasher();
    Hasher(Hasher&&) noexcept;
    Hasher& operator=(Hasher&&) noexcept;

    void update(const void* data, std::size_t size);
    void update(std::string_view data) { update(data.data(), data.size()); }
    // Lower-case hex; the hasher cannot be updated afterwards.
    std::string hex_digest();
    ChecksumType type() const { return type_; }

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    ChecksumType type_;
};

std::string checksum_hex(ChecksumType type, std::string_view data);
// Reads the whole file in blocks; throws SystemError naming the file.
std::string file_checksum_hex(ChecksumType type, const std::filesystem::path& path);

}  // namespace airstrap
