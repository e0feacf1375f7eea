#include "common/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <memory>

#include "common/error.hpp"

namespace airstrap::crypto {

Bytes random_bytes(std::size_t count) {
    Bytes out(count);
    if (RAND_bytes(out.data(), static_cast<int>(count)) != 1) {
        throw Error("the system random number generator failed");
    }
    return out;
}

Bytes hkdf_sha256(const Bytes& key, std::string_view salt, std::string_view info,
                  std::size_t length) {
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
        EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr), &EVP_PKEY_CTX_free);
    Bytes out(length);
    std::size_t out_len = length;
    auto u8 = [](std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); };
    if (!ctx || EVP_PKEY_derive_init(ctx.get()) <= 0 ||
        EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) <= 0 ||
        EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), key.data(), static_cast<int>(key.size())) <= 0 ||
        EVP_PKEY_CTX_set1_hkdf_salt(ctx.get(), u8(salt), static_cast<int>(salt.size())) <= 0 ||
        EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), u8(info), static_cast<int>(info.size())) <= 0 ||
        EVP_PKEY_derive(ctx.get(), out.data(), &out_len) <= 0 || out_len != length) {
        throw Error("HKDF-SHA256 key derivation failed");
    }
    return out;
}

namespace {

constexpr std::size_t gcm_nonce = 12, gcm_tag = 16;

struct CipherCtx {
    CipherCtx() : ctx(EVP_CIPHER_CTX_new()) {
        if (!ctx) throw Error("EVP_CIPHER_CTX_new failed");
    }
    ~CipherCtx() { EVP_CIPHER_CTX_free(ctx); }
    CipherCtx(const CipherCtx&) = delete;
    CipherCtx& operator=(const CipherCtx&) = delete;
    EVP_CIPHER_CTX* ctx;
};

const unsigned char* bytes_of(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

Bytes seal(const Bytes& key, const Bytes& nonce, std::string_view plaintext,
           std::string_view context) {
    if (key.size() != 32) throw Error("seal: the key must be 32 bytes");
    if (nonce.size() != gcm_nonce) throw Error("seal: the nonce must be 12 bytes");
    Bytes out = nonce;
    out.resize(gcm_nonce + plaintext.size() + gcm_tag);
    CipherCtx c;
    int len = 0;
    if (EVP_EncryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, key.data(), out.data()) != 1 ||
        EVP_EncryptUpdate(c.ctx, nullptr, &len, bytes_of(context),
                          static_cast<int>(context.size())) != 1 ||
        EVP_EncryptUpdate(c.ctx, out.data() + gcm_nonce, &len, bytes_of(plaintext),
                          static_cast<int>(plaintext.size())) != 1 ||
        EVP_EncryptFinal_ex(c.ctx, out.data() + gcm_nonce + len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, gcm_tag,
                            out.data() + gcm_nonce + plaintext.size()) != 1) {
        throw Error("AES-256-GCM encryption failed");
    }
    return out;
}

std::string unseal(const Bytes& key, const Bytes& sealed, std::string_view context) {
    if (key.size() != 32) throw Error("unseal: the key must be 32 bytes");
    if (sealed.size() < gcm_nonce + gcm_tag) throw Error("sealed data too short");
    std::size_t n = sealed.size() - gcm_nonce - gcm_tag;
    std::string out(n, '\0');
    Bytes tag(sealed.end() - gcm_tag, sealed.end());
    CipherCtx c;
    int len = 0;
    bool ok =
        EVP_DecryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, key.data(), sealed.data()) == 1 &&
        EVP_DecryptUpdate(c.ctx, nullptr, &len, bytes_of(context),
                          static_cast<int>(context.size())) == 1 &&
        EVP_DecryptUpdate(c.ctx, reinterpret_cast<unsigned char*>(out.data()), &len,
                          sealed.data() + gcm_nonce, static_cast<int>(n)) == 1 &&
        EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, gcm_tag, tag.data()) == 1 &&
        EVP_DecryptFinal_ex(c.ctx, reinterpret_cast<unsigned char*>(out.data()) + len, &len) == 1;
    if (!ok) {
        OPENSSL_cleanse(out.data(), out.size());
        throw Error("sealed data does not open with this key (wrong site secret, or altered)");
    }
    return out;
}

Bytes hmac_sha256(const Bytes& key, std::string_view data) {
    Bytes out(EVP_MAX_MD_SIZE);
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len)) {
        throw Error("HMAC-SHA256 failed");
    }
    out.resize(len);
    return out;
}

bool equal_constant_time(const Bytes& a, const Bytes& b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string to_hex(const Bytes& bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (auto b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 0xF];
    }
    return out;
}

bool from_hex(std::string_view hex, Bytes& out) {
    if (hex.size() % 2) return false;
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    Bytes bytes;
    bytes.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        int hi = nibble(hex[i]);
        int lo = nibble(hex[i + 1]);
        if (hi < 0 || lo < 0) return false;
        bytes.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
    }
    out = std::move(bytes);
    return true;
}

}  // namespace airstrap::crypto
