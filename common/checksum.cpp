#include "common/checksum.hpp"

#include <openssl/evp.h>

#include "common/crypto.hpp"
#include "common/error.hpp"
#include "common/file_io.hpp"

namespace airstrap {

std::optional<ChecksumType> checksum_type_from_name(std::string_view name) {
    if (name == "sha256") return ChecksumType::sha256;
    if (name == "sha512") return ChecksumType::sha512;
    if (name == "sha384") return ChecksumType::sha384;
    if (name == "sha224") return ChecksumType::sha224;
    if (name == "sha1" || name == "sha") return ChecksumType::sha1;
    if (name == "md5") return ChecksumType::md5;
    return std::nullopt;
}

const char* checksum_type_name(ChecksumType type) {
    switch (type) {
        case ChecksumType::md5:
            return "md5";
        case ChecksumType::sha1:
            return "sha1";
        case ChecksumType::sha224:
            return "sha224";
        case ChecksumType::sha256:
            return "sha256";
        case ChecksumType::sha384:
            return "sha384";
        case ChecksumType::sha512:
            return "sha512";
    }
    return "?";
}

bool is_strong(ChecksumType type) {
    return type != ChecksumType::md5 && type != ChecksumType::sha1;
}

struct Hasher::Impl {
    EVP_MD_CTX* ctx = nullptr;
    ~Impl() { EVP_MD_CTX_free(ctx); }
};

namespace {

const EVP_MD* evp_md(ChecksumType type) {
    switch (type) {
        case ChecksumType::md5:
            return EVP_md5();
        case ChecksumType::sha1:
            return EVP_sha1();
        case ChecksumType::sha224:
            return EVP_sha224();
        case ChecksumType::sha256:
            return EVP_sha256();
        case ChecksumType::sha384:
            return EVP_sha384();
        case ChecksumType::sha512:
            return EVP_sha512();
    }
    return nullptr;
}

}  // namespace

Hasher::Hasher(ChecksumType type) : impl_(std::make_unique<Impl>()), type_(type) {
    impl_->ctx = EVP_MD_CTX_new();
    if (!impl_->ctx || EVP_DigestInit_ex(impl_->ctx, evp_md(type), nullptr) != 1) {
        throw Error(std::string("cannot start a ") + checksum_type_name(type) + " digest");
    }
}

Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::update(const void* data, std::size_t size) {
    if (EVP_DigestUpdate(impl_->ctx, data, size) != 1) throw Error("digest update failed");
}

std::string Hasher::hex_digest() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(impl_->ctx, md, &len) != 1) throw Error("digest final failed");
    return crypto::to_hex(crypto::Bytes(md, md + len));
}

std::string checksum_hex(ChecksumType type, std::string_view data) {
    Hasher h(type);
    h.update(data);
    return h.hex_digest();
}

std::string file_checksum_hex(ChecksumType type, const std::filesystem::path& path) {
    Hasher h(type);
    for_each_block(path, [&](const char* data, std::size_t size) { h.update(data, size); });
    return h.hex_digest();
}

}  // namespace airstrap
