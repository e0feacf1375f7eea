// The few cryptographic primitives airstrap needs, all from OpenSSL's libcrypto.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace airstrap::crypto {

using Bytes = std::vector<std::uint8_t>;

// From the kernel's CSPRNG (kernel_random: getrandom, or /dev/urandom on 3.10); throws with
// the cause.
Bytes random_bytes(std::size_t count);

// Makes OpenSSL's DRBGs (RAND_bytes, key generation, TLS) seed from kernel_random, so that
// they work on a kernel without getrandom (CentOS 7's 3.10). Call it first in main, before
// anything uses OpenSSL's generator: it checks that it took effect, and throws otherwise.
// Once per process; later calls do nothing.
void seed_from_kernel();
// From OpenSSL's generator (RAND_bytes); throws with OpenSSL's reasons if it cannot seed.
Bytes drbg_bytes(std::size_t count);
// Bytes OpenSSL has drawn from the kernel through it (for tests and `self-test`).
std::uint64_t kernel_seed_bytes();

// HKDF-SHA256 (RFC 5869). Each purpose gets its own `info`, so keys never mix.
Bytes hkdf_sha256(const Bytes& key, std::string_view salt, std::string_view info,
                  std::size_t length);

// HMAC-SHA256 of data under key (32 bytes).
Bytes hmac_sha256(const Bytes& key, std::string_view data);
// Equal sizes and contents, compared in time independent of where they differ.
bool equal_constant_time(const Bytes& a, const Bytes& b);

// AES-256-GCM: nonce ‖ ciphertext ‖ 16-byte tag. `key` is 32 bytes (from hkdf_sha256 with a
// purpose of its own); `context` is authenticated, not encrypted. The 12-byte nonce must never
// serve two plaintexts under one key: draw it at random, or derive it from the plaintext with
// a MAC (deterministic output, which reveals only that two plaintexts are equal).
Bytes seal(const Bytes& key, const Bytes& nonce, std::string_view plaintext,
           std::string_view context);
// The plaintext, or Error when the key, the context or a byte of `sealed` is wrong.
std::string unseal(const Bytes& key, const Bytes& sealed, std::string_view context);

// Ed25519 (RFC 8032) from OpenSSL: a key pair is its 32-byte private seed; the public key is
// 32 bytes, a signature 64. The seed is secret; derive it with hkdf_sha256 or draw it at random.
Bytes ed25519_public_key(const Bytes& seed);
Bytes ed25519_sign(const Bytes& seed, std::string_view message);
// False for a wrong key, message or signature, or one of the wrong size; never throws.
bool ed25519_verify(const Bytes& public_key, std::string_view message, const Bytes& signature);

std::string to_hex(const Bytes& bytes);
// Returns false if `hex` is not an even-length hex string.
bool from_hex(std::string_view hex, Bytes& out);

}  // namespace airstrap::crypto
