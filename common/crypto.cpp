#include "common/crypto.hpp"

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

#include <atomic>
#include <memory>
#include <mutex>

#include "common/error.hpp"
#include "common/kernel_random.hpp"

namespace airstrap::crypto {

Bytes random_bytes(std::size_t count) {
    Bytes out(count);
    try {
        kernel_random(out.data(), out.size());
    } catch (const std::exception&) {
        std::throw_with_nested(Error("the system random number generator failed"));
    }
    return out;
}

namespace {

// OpenSSL's seed source, from kernel_random: a provider built into the binary offering one
// RAND algorithm, a seed source (no parent, get_seed) as OpenSSL's own SEED-SRC is. OpenSSL 3.0
// itself cannot seed on a 3.10 kernel seen from a newer build host: without getrandom it
// reads /dev/urandom only when uname reports a kernel older than 4.8.
constexpr const char* seed_provider = "airstrap-kernel-seed";
constexpr const char* seed_algorithm = "AIRSTRAP-KERNEL-SEED";
constexpr const char* seed_properties = "provider=airstrap-kernel-seed";
constexpr unsigned int seed_strength = 256;  // the kernel's CSPRNG: ChaCha20, 256-bit key
constexpr std::size_t seed_max_request = 256;
std::atomic<std::uint64_t> seed_bytes{0};

struct SeedSource {
    int state = EVP_RAND_STATE_UNINITIALISED;
};

bool kernel_seed(unsigned char* out, std::size_t size) noexcept {
    try {
        kernel_random(out, size);
        seed_bytes += size;
        return true;
    } catch (const std::exception& e) {
        ERR_raise_data(ERR_LIB_RAND, ERR_R_INTERNAL_ERROR, "airstrap kernel seed: %s",
                       describe(e).c_str());
        return false;
    }
}

void* seed_new(void*, void* parent, const OSSL_DISPATCH*) {
    if (parent != nullptr) return nullptr;  // a seed source has no parent
    return new (std::nothrow) SeedSource;
}
void seed_free(void* ctx) {
    delete static_cast<SeedSource*>(ctx);
}
int seed_instantiate(void* ctx, unsigned int, int, const unsigned char*, std::size_t,
                     const OSSL_PARAM*) {
    static_cast<SeedSource*>(ctx)->state = EVP_RAND_STATE_READY;
    return 1;
}
int seed_uninstantiate(void* ctx) {
    static_cast<SeedSource*>(ctx)->state = EVP_RAND_STATE_UNINITIALISED;
    return 1;
}
int seed_generate(void* ctx, unsigned char* out, std::size_t size, unsigned int strength, int,
                  const unsigned char*, std::size_t) {
    if (static_cast<SeedSource*>(ctx)->state != EVP_RAND_STATE_READY) return 0;
    if (strength > seed_strength) return 0;
    return kernel_seed(out, size) ? 1 : 0;
}
int seed_reseed(void* ctx, int, const unsigned char*, std::size_t, const unsigned char*,
                std::size_t) {
    return static_cast<SeedSource*>(ctx)->state == EVP_RAND_STATE_READY ? 1 : 0;
}
int seed_enable_locking(void*) {
    return 1;  // kernel_random is thread-safe
}
int seed_lock(void*) {
    return 1;
}
void seed_unlock(void*) {}
const OSSL_PARAM* seed_gettable_ctx_params(void*, void*) {
    static const OSSL_PARAM params[] = {OSSL_PARAM_int(OSSL_RAND_PARAM_STATE, nullptr),
                                        OSSL_PARAM_uint(OSSL_RAND_PARAM_STRENGTH, nullptr),
                                        OSSL_PARAM_size_t(OSSL_RAND_PARAM_MAX_REQUEST, nullptr),
                                        OSSL_PARAM_END};
    return params;
}
int seed_get_ctx_params(void* ctx, OSSL_PARAM params[]) {
    OSSL_PARAM* p = OSSL_PARAM_locate(params, OSSL_RAND_PARAM_STATE);
    if (p != nullptr && !OSSL_PARAM_set_int(p, static_cast<SeedSource*>(ctx)->state)) return 0;
    p = OSSL_PARAM_locate(params, OSSL_RAND_PARAM_STRENGTH);
    if (p != nullptr && !OSSL_PARAM_set_uint(p, seed_strength)) return 0;
    p = OSSL_PARAM_locate(params, OSSL_RAND_PARAM_MAX_REQUEST);
    if (p != nullptr && !OSSL_PARAM_set_size_t(p, seed_max_request)) return 0;
    return 1;
}
int seed_verify_zeroization(void*) {
    return 1;
}
// `entropy` bits at full entropy per byte, at least min_len bytes.
std::size_t seed_get_seed(void* ctx, unsigned char** out, int entropy, std::size_t min_len,
                          std::size_t max_len, int, const unsigned char*, std::size_t) {
    if (static_cast<SeedSource*>(ctx)->state != EVP_RAND_STATE_READY) return 0;
    std::size_t size = entropy > 0 ? (static_cast<std::size_t>(entropy) + 7) / 8 : 0;
    if (size < min_len) size = min_len;
    if (size > max_len) return 0;
    auto* buf = static_cast<unsigned char*>(OPENSSL_secure_malloc(size));
    if (buf == nullptr) return 0;
    if (!kernel_seed(buf, size)) {
        OPENSSL_secure_clear_free(buf, size);
        return 0;
    }
    *out = buf;
    return size;
}
void seed_clear_seed(void*, unsigned char* out, std::size_t size) {
    OPENSSL_secure_clear_free(out, size);
}

template <typename F>
OSSL_DISPATCH fn(int id, F* f) {
    return {id, reinterpret_cast<void (*)(void)>(f)};
}

const OSSL_DISPATCH* seed_functions() {
    static const OSSL_DISPATCH functions[] = {
        fn(OSSL_FUNC_RAND_NEWCTX, seed_new),
        fn(OSSL_FUNC_RAND_FREECTX, seed_free),
        fn(OSSL_FUNC_RAND_INSTANTIATE, seed_instantiate),
        fn(OSSL_FUNC_RAND_UNINSTANTIATE, seed_uninstantiate),
        fn(OSSL_FUNC_RAND_GENERATE, seed_generate),
        fn(OSSL_FUNC_RAND_RESEED, seed_reseed),
        fn(OSSL_FUNC_RAND_ENABLE_LOCKING, seed_enable_locking),
        fn(OSSL_FUNC_RAND_LOCK, seed_lock),
        fn(OSSL_FUNC_RAND_UNLOCK, seed_unlock),
        fn(OSSL_FUNC_RAND_GETTABLE_CTX_PARAMS, seed_gettable_ctx_params),
        fn(OSSL_FUNC_RAND_GET_CTX_PARAMS, seed_get_ctx_params),
        fn(OSSL_FUNC_RAND_VERIFY_ZEROIZATION, seed_verify_zeroization),
        fn(OSSL_FUNC_RAND_GET_SEED, seed_get_seed),
        fn(OSSL_FUNC_RAND_CLEAR_SEED, seed_clear_seed),
        {0, nullptr}};
    return functions;
}

const OSSL_ALGORITHM* seed_query(void*, int operation, int* no_cache) {
    static const OSSL_ALGORITHM rands[] = {
        {seed_algorithm, seed_properties, seed_functions(), "the kernel's CSPRNG (airstrap)"},
        {nullptr, nullptr, nullptr, nullptr}};
    *no_cache = 0;
    return operation == OSSL_OP_RAND ? rands : nullptr;
}

int seed_provider_init(const OSSL_CORE_HANDLE*, const OSSL_DISPATCH*, const OSSL_DISPATCH** out,
                       void** provider_ctx) {
    static const OSSL_DISPATCH provider[] = {fn(OSSL_FUNC_PROVIDER_QUERY_OPERATION, seed_query),
                                             {0, nullptr}};
    *out = provider;
    *provider_ctx = nullptr;
    return 1;
}

std::string openssl_errors() {
    std::string out;
    while (unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        out += out.empty() ? "" : "; ";
        out += buf;
    }
    return out.empty() ? "no detail from OpenSSL" : out;
}

}  // namespace

void seed_from_kernel() {
    static std::once_flag once;
    std::call_once(once, [] {
        auto failed = [](const std::string& what) {
            return Error("cannot make OpenSSL seed from the kernel: " + what + " (" +
                         openssl_errors() + ")");
        };
        // Both providers stay loaded for the life of the process; held here, their one owner.
        static OSSL_PROVIDER* seed = nullptr;
        static OSSL_PROVIDER* defaults = nullptr;
        if (OSSL_PROVIDER_add_builtin(nullptr, seed_provider, seed_provider_init) != 1 ||
            (seed = OSSL_PROVIDER_load(nullptr, seed_provider)) == nullptr) {
            throw failed("the seed provider does not load");
        }
        // A provider loaded by hand turns off the automatic one: load OpenSSL's default too.
        if ((defaults = OSSL_PROVIDER_load(nullptr, "default")) == nullptr) {
            throw failed("OpenSSL's default provider does not load");
        }
        constexpr const char* too_late =
            "OpenSSL's generator was set up already (call seed_from_kernel before anything "
            "uses it)";
        if (RAND_set_seed_source_type(nullptr, seed_algorithm, seed_properties) != 1) {
            throw failed(std::string("RAND_set_seed_source_type refused it; perhaps ") + too_late);
        }
        unsigned char probe[16];
        if (RAND_bytes(probe, sizeof probe) != 1) throw failed("RAND_bytes fails with it");
        OPENSSL_cleanse(probe, sizeof probe);
        if (seed_bytes == 0) {
            throw failed(too_late);
        }
    });
}

Bytes drbg_bytes(std::size_t count) {
    Bytes out(count);
    if (RAND_bytes(out.data(), static_cast<int>(count)) != 1) {
        throw Error("OpenSSL's random number generator failed (" + openssl_errors() + ")");
    }
    return out;
}

std::uint64_t kernel_seed_bytes() {
    return seed_bytes;
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

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

PkeyPtr ed25519_private(const Bytes& seed) {
    if (seed.size() != 32) throw Error("Ed25519: the private seed must be 32 bytes");
    PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()),
                &EVP_PKEY_free);
    if (!key) throw Error("Ed25519: cannot load the private key (" + openssl_errors() + ")");
    return key;
}

}  // namespace

Bytes ed25519_public_key(const Bytes& seed) {
    PkeyPtr key = ed25519_private(seed);
    Bytes out(32);
    std::size_t len = out.size();
    if (EVP_PKEY_get_raw_public_key(key.get(), out.data(), &len) != 1 || len != 32)
        throw Error("Ed25519: cannot compute the public key (" + openssl_errors() + ")");
    return out;
}

Bytes ed25519_sign(const Bytes& seed, std::string_view message) {
    PkeyPtr key = ed25519_private(seed);
    MdCtxPtr ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    Bytes sig(64);
    std::size_t len = sig.size();
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), sig.data(), &len,
                       reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) != 1 ||
        len != 64)
        throw Error("Ed25519: signing failed (" + openssl_errors() + ")");
    return sig;
}

bool ed25519_verify(const Bytes& public_key, std::string_view message, const Bytes& signature) {
    if (public_key.size() != 32 || signature.size() != 64) return false;
    PkeyPtr key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key.data(),
                                            public_key.size()),
                &EVP_PKEY_free);
    MdCtxPtr ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    bool ok = key && ctx &&
              EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
              EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                               reinterpret_cast<const unsigned char*>(message.data()),
                               message.size()) == 1;
    ERR_clear_error();
    return ok;
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
