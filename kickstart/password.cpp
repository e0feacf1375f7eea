#include "kickstart/password.hpp"

#include <crypt.h>

#include <cstring>
#include <memory>

#include "common/error.hpp"

namespace airstrap::kickstart {

std::string sha512_crypt(const std::string& password, const crypto::Bytes& salt_seed) {
    if (salt_seed.size() < 16) throw Error("sha512_crypt: salt seed shorter than 16 bytes");
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    // count 0: glibc's default 5000 rounds, so the hash reads "$6$salt$…" as EL7's
    // authconfig writes it.
    if (!crypt_gensalt_rn("$6$", 0, reinterpret_cast<const char*>(salt_seed.data()),
                          static_cast<int>(salt_seed.size()), setting, sizeof setting)) {
        throw Error("libcrypt cannot make a SHA-512 salt");
    }
    auto data = std::make_unique<crypt_data>();
    std::memset(data.get(), 0, sizeof *data);
    const char* hash = crypt_r(password.c_str(), setting, data.get());
    if (!hash || hash[0] == '*') throw Error("libcrypt cannot hash with SHA-512");
    return hash;
}

}  // namespace airstrap::kickstart
