// SHA-512 crypt ($6$) hashes for kickstart's `rootpw --iscrypted`, made by libcrypt.
#pragma once

#include <string>

#include "common/crypto.hpp"

namespace airstrap::kickstart {

// Hash `password` with a salt derived from `salt_seed` (at least 16 bytes). The same seed
// gives the same hash, which keeps kickstarts byte-identical across runs; derive the seed
// from the site secret so that the salt is still unpredictable to others.
std::string sha512_crypt(const std::string& password, const crypto::Bytes& salt_seed);

}  // namespace airstrap::kickstart
