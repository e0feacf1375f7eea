#include "common/crypto.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "common/error.hpp"

namespace airstrap::crypto {
namespace {

std::string string_of(const Bytes& b) {
    return std::string(b.begin(), b.end());
}

// RFC 5869, appendix A.1 (test case 1).
TEST(HkdfSha256, Rfc5869TestCase1) {
    Bytes ikm(22, 0x0b);
    Bytes salt;
    for (std::uint8_t b = 0x00; b <= 0x0c; ++b) salt.push_back(b);
    Bytes info;
    for (std::uint8_t b = 0xf0; b <= 0xf9; ++b) info.push_back(b);
    ASSERT_EQ(salt.size(), 13u);
    ASSERT_EQ(info.size(), 10u);

    Bytes okm = hkdf_sha256(ikm, string_of(salt), string_of(info), 42);
    EXPECT_EQ(
        to_hex(okm),
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

// RFC 5869, appendix A.2 (test case 2): long inputs, 82 bytes of output.
TEST(HkdfSha256, Rfc5869TestCase2) {
    Bytes ikm, salt, info;
    for (int b = 0x00; b <= 0x4f; ++b) ikm.push_back(static_cast<std::uint8_t>(b));
    for (int b = 0x60; b <= 0xaf; ++b) salt.push_back(static_cast<std::uint8_t>(b));
    for (int b = 0xb0; b <= 0xff; ++b) info.push_back(static_cast<std::uint8_t>(b));
    Bytes okm = hkdf_sha256(ikm, string_of(salt), string_of(info), 82);
    EXPECT_EQ(to_hex(okm),
              "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
              "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
              "cc30c58179ec3e87c14c01d5c1f3434f1d87");
}

// RFC 5869, appendix A.3 (test case 3): empty salt and info.
TEST(HkdfSha256, Rfc5869TestCase3EmptySaltAndInfo) {
    Bytes ikm(22, 0x0b);
    Bytes okm = hkdf_sha256(ikm, "", "", 42);
    EXPECT_EQ(
        to_hex(okm),
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(HkdfSha256, DifferentInfoGivesUnrelatedKeys) {
    Bytes key(32, 0x42);
    Bytes a = hkdf_sha256(key, "salt", "purpose-a", 32);
    Bytes b = hkdf_sha256(key, "salt", "purpose-b", 32);
    EXPECT_EQ(a.size(), 32u);
    EXPECT_EQ(b.size(), 32u);
    EXPECT_NE(a, b);
    // Same inputs, same output.
    EXPECT_EQ(a, hkdf_sha256(key, "salt", "purpose-a", 32));
}

TEST(HkdfSha256, ShorterOutputIsAPrefix) {
    Bytes key(32, 0x01);
    Bytes long_key = hkdf_sha256(key, "s", "i", 64);
    Bytes short_key = hkdf_sha256(key, "s", "i", 16);
    ASSERT_EQ(long_key.size(), 64u);
    ASSERT_EQ(short_key.size(), 16u);
    EXPECT_EQ(Bytes(long_key.begin(), long_key.begin() + 16), short_key);
}

TEST(RandomBytes, HasTheRequestedLength) {
    EXPECT_EQ(random_bytes(0).size(), 0u);
    EXPECT_EQ(random_bytes(1).size(), 1u);
    EXPECT_EQ(random_bytes(32).size(), 32u);
    EXPECT_EQ(random_bytes(1000).size(), 1000u);
}

TEST(RandomBytes, TwoCallsDiffer) {
    // 2^-256 chance of a false failure.
    Bytes a = random_bytes(32);
    Bytes b = random_bytes(32);
    EXPECT_NE(a, b);
    EXPECT_NE(a, Bytes(32, 0));
}

TEST(Hex, ToHexIsLowerCaseTwoDigitsPerByte) {
    EXPECT_EQ(to_hex({}), "");
    EXPECT_EQ(to_hex({0x00, 0x01, 0x0f, 0x10, 0xab, 0xff}), "00010f10abff");
}

TEST(Hex, RoundTrip) {
    Bytes all;
    for (int b = 0; b < 256; ++b) all.push_back(static_cast<std::uint8_t>(b));
    std::string h = to_hex(all);
    EXPECT_EQ(h.size(), 512u);
    Bytes back;
    ASSERT_TRUE(from_hex(h, back));
    EXPECT_EQ(back, all);
}

TEST(Hex, FromHexAcceptsUpperAndMixedCase) {
    Bytes out;
    ASSERT_TRUE(from_hex("ABcdEf09", out));
    EXPECT_EQ(out, (Bytes{0xab, 0xcd, 0xef, 0x09}));
}

TEST(Hex, FromHexOfEmptyIsEmpty) {
    Bytes out{1, 2, 3};
    ASSERT_TRUE(from_hex("", out));
    EXPECT_TRUE(out.empty());
}

TEST(Hex, OddLengthRejected) {
    Bytes out;
    EXPECT_FALSE(from_hex("abc", out));
    EXPECT_FALSE(from_hex("0", out));
    EXPECT_FALSE(from_hex(std::string(63, 'a'), out));
}

TEST(Hex, NonHexRejected) {
    Bytes out;
    EXPECT_FALSE(from_hex("zz", out));
    EXPECT_FALSE(from_hex("0g", out));
    EXPECT_FALSE(from_hex("g0", out));
    EXPECT_FALSE(from_hex("0x12", out));
    EXPECT_FALSE(from_hex(" 123", out));
    EXPECT_FALSE(from_hex("-1", out));
    EXPECT_FALSE(from_hex(std::string("\0\0", 2), out));
}

// RFC 4231, test case 2.
TEST(HmacSha256, Rfc4231TestCase2) {
    Bytes key{'J', 'e', 'f', 'e'};
    EXPECT_EQ(to_hex(hmac_sha256(key, "what do ya want for nothing?")),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(EqualConstantTime, ComparesSizeAndContent) {
    EXPECT_TRUE(equal_constant_time(Bytes{1, 2, 3}, Bytes{1, 2, 3}));
    EXPECT_FALSE(equal_constant_time(Bytes{1, 2, 3}, Bytes{1, 2, 4}));
    EXPECT_FALSE(equal_constant_time(Bytes{1, 2, 3}, Bytes{1, 2}));
    EXPECT_TRUE(equal_constant_time(Bytes{}, Bytes{}));
}

// The GCM specification's test case 14 (256-bit zero key, zero nonce, 16 zero bytes).
TEST(Seal, AesGcmKnownAnswer) {
    Bytes key(32, 0), nonce(12, 0);
    Bytes sealed = seal(key, nonce, std::string(16, '\0'), "");
    EXPECT_EQ(to_hex(sealed),
              "000000000000000000000000"
              "cea7403d4d606b6e074ec5d3baf39d18"
              "d0d1c8a799996bf0265b98b5d48ab919");
    EXPECT_EQ(unseal(key, sealed, ""), std::string(16, '\0'));
}

TEST(Seal, WrongKeyContextOrByteRefused) {
    Bytes key(32, 7), nonce(12, 9);
    Bytes sealed = seal(key, nonce, "the passwords", "context");
    EXPECT_EQ(unseal(key, sealed, "context"), "the passwords");
    EXPECT_THROW(unseal(Bytes(32, 8), sealed, "context"), airstrap::Error);
    EXPECT_THROW(unseal(key, sealed, "other context"), airstrap::Error);
    for (std::size_t i : {std::size_t{0}, std::size_t{13}, sealed.size() - 1}) {
        Bytes altered = sealed;
        altered[i] ^= 1;
        EXPECT_THROW(unseal(key, altered, "context"), airstrap::Error) << i;
    }
    EXPECT_THROW(unseal(key, Bytes(27, 0), "context"), airstrap::Error);
    EXPECT_THROW(seal(Bytes(16, 0), nonce, "x", ""), airstrap::Error);
    EXPECT_THROW(seal(key, Bytes(8, 0), "x", ""), airstrap::Error);
}

}  // namespace
}  // namespace airstrap::crypto
