// libFuzzer target for repository metadata: any bytes as repomd.xml, as a compressed
// metadata file (checksummed, so decompression is reached), and as primary XML for libsolv.
// Errors are fine; crashes, hangs, leaks and sanitizer reports are not.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/checksum.hpp"
#include "common/error.hpp"
#include "repo-mirror/closure.hpp"
#include "repo-mirror/repodata.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace airstrap;
    std::string bytes(reinterpret_cast<const char*>(data), size);
    mirror::MetadataPolicy policy;
    policy.max_open_bytes = 16 << 20;
    try {
        mirror::parse_repomd(bytes, "fuzz", policy);
    } catch (const InputError&) {
    }
    std::string opened;
    try {
        mirror::RepoMdRecord record;
        record.type = "primary";
        record.href = "repodata/primary.xml";
        record.checksum = checksum_hex(ChecksumType::sha256, bytes);
        opened = mirror::verify_and_open(record, bytes, "fuzz", policy);
    } catch (const InputError&) {
    }
    try {
        mirror::PackagePool pool;
        pool.add_repo({"fuzz", opened.empty() ? bytes : opened, "", ""});
        mirror::ClosureRequest request;
        for (const auto& p : pool.all_packages()) request.install.push_back(p.name);
        if (request.install.size() < 50) (void)pool.closure(request);
    } catch (const InputError&) {
    }
    return 0;
}
