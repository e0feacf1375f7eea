// Root password hashes: checked against libcrypt's own crypt_r, the check login(1) makes.
#include "kickstart/password.hpp"

#include <crypt.h>
#include <gtest/gtest.h>

#include <cstring>
#include <memory>

using airstrap::crypto::Bytes;
using airstrap::kickstart::sha512_crypt;

namespace {

std::string verify(const std::string& password, const std::string& hash) {
    auto data = std::make_unique<crypt_data>();
    std::memset(data.get(), 0, sizeof *data);
    const char* out = crypt_r(password.c_str(), hash.c_str(), data.get());
    return out ? out : "";
}

TEST(Sha512Crypt, VerifiesWithCryptR) {
    Bytes seed(16, 0x5a);
    std::string hash = sha512_crypt("correct horse", seed);
    ASSERT_TRUE(hash.starts_with("$6$")) << hash;
    EXPECT_EQ(verify("correct horse", hash), hash);
    EXPECT_NE(verify("correct horsf", hash), hash);
}

TEST(Sha512Crypt, HasSixteenCharacterSaltAndEightySixCharacterHash) {
    std::string hash = sha512_crypt("x", Bytes(16, 1));
    // $6$<16 salt>$<86 hash>
    auto second = hash.find('$', 3);
    ASSERT_NE(second, std::string::npos);
    EXPECT_EQ(second - 3, 16u);
    EXPECT_EQ(hash.size() - second - 1, 86u);
}

TEST(Sha512Crypt, SameSeedSameHashOtherSeedOtherHash) {
    EXPECT_EQ(sha512_crypt("pw", Bytes(16, 7)), sha512_crypt("pw", Bytes(16, 7)));
    EXPECT_NE(sha512_crypt("pw", Bytes(16, 7)), sha512_crypt("pw", Bytes(16, 8)));
}

TEST(Sha512Crypt, KnownAnswerFromGlibcTestSuite) {
    // The salt string is ours to choose via the seed only, so check the algorithm through
    // crypt_r directly on the published vector, then that our output has that format.
    EXPECT_EQ(verify("Hello world!", "$6$saltstring"),
              "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/"
              "O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1");
    std::string ours = sha512_crypt("Hello world!", Bytes(16, 0));
    EXPECT_EQ(verify("Hello world!", ours), ours);
}

TEST(Sha512Crypt, RejectsShortSeed) {
    EXPECT_ANY_THROW(sha512_crypt("pw", Bytes(8, 1)));
}

}  // namespace
