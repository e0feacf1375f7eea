// repomd.xml and the metadata files it lists: parsed with libxml2 (no DTDs, no entity
// expansion, no network), every file checked against repomd's checksum before it is used,
// and decompressed (gz, xz, bz2, zstd) with its size capped by repomd's open-size.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/checksum.hpp"

namespace airstrap::mirror {

struct RepoMdRecord {
    std::string type;  // primary, filelists, group, group_gz, modules, updateinfo, …
    std::string href;  // relative to the repository root; checked safe
    ChecksumType checksum_type = ChecksumType::sha256;
    std::string checksum;
    std::optional<ChecksumType> open_checksum_type;
    std::string open_checksum;
    std::optional<std::uint64_t> size;
    std::optional<std::uint64_t> open_size;
};

struct RepoMd {
    std::string revision;
    std::vector<RepoMdRecord> records;
    const RepoMdRecord* find(std::string_view type) const;
};

struct MetadataPolicy {
    bool allow_weak_checksums = false;  // md5/sha1 (very old repositories)
    // Cap when repomd gives no open-size, and in any case.
    std::uint64_t max_open_bytes = std::uint64_t{2} << 30;
};

// `where` names the file in errors ("CentOS-7.iso: repodata/repomd.xml").
RepoMd parse_repomd(std::string_view xml, const std::string& where, const MetadataPolicy& policy);

// Checks `raw` against the record, decompresses it (by content, not by name) and checks the
// result against open-checksum and open-size. Throws InputError naming `where`.
std::string verify_and_open(const RepoMdRecord& record, std::string_view raw,
                            const std::string& where, const MetadataPolicy& policy);

}  // namespace airstrap::mirror
