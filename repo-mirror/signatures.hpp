// Package signatures, checked with librpm against exactly the keys the site names (no
// system keyring). Unsigned packages are reported; whether they are refused is the site's
// choice (media.require_signatures).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

struct headerToken_s;  // librpm's Header

namespace airstrap::mirror {

// A librpm header with its one owner (headerFree).
struct RpmHeaderFree {
    void operator()(headerToken_s* h) const;
};
using RpmHeaderPtr = std::unique_ptr<headerToken_s, RpmHeaderFree>;

struct SignatureCheck {
    enum class State { verified, unsigned_package, bad, unknown_key, unchecked };
    State state = State::unchecked;
    std::string detail;  // librpm's words, e.g. "Header V4 RSA/SHA256 Signature, key ID …: NOKEY"
    // The header the check read (null when it read none): the repodata writer describes the
    // package from it instead of reading it again.
    RpmHeaderPtr header;
};

const char* to_string(SignatureCheck::State state);

class SignatureChecker {
  public:
    // ASCII-armored OpenPGP public keys; InputError naming a file that is not one.
    explicit SignatureChecker(const std::vector<std::filesystem::path>& keys);
    ~SignatureChecker();
    SignatureChecker(const SignatureChecker&) = delete;
    SignatureChecker& operator=(const SignatureChecker&) = delete;

    bool has_keys() const { return keys_ > 0; }
    SignatureCheck check(const std::filesystem::path& rpm);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::size_t keys_ = 0;
};

}  // namespace airstrap::mirror
