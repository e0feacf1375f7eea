#include "repo-mirror/signatures.hpp"

#include <rpm/header.h>
#include <rpm/rpmkeyring.h>
#include <rpm/rpmlib.h>
#include <rpm/rpmlog.h>
#include <rpm/rpmts.h>

#include <mutex>

#include "common/error.hpp"

namespace airstrap::mirror {

const char* to_string(SignatureCheck::State state) {
    switch (state) {
        case SignatureCheck::State::verified:
            return "verified";
        case SignatureCheck::State::unsigned_package:
            return "unsigned";
        case SignatureCheck::State::bad:
            return "bad";
        case SignatureCheck::State::unknown_key:
            return "unknown-key";
        case SignatureCheck::State::unchecked:
            return "unchecked";
    }
    return "?";
}

namespace {

// librpm reports through its log; keep the last line for the message instead of printing.
thread_local std::string last_rpm_message;

int capture_log(rpmlogRec rec, rpmlogCallbackData) {
    const char* m = rpmlogRecMessage(rec);
    last_rpm_message = m ? m : "";
    while (!last_rpm_message.empty() && last_rpm_message.back() == '\n')
        last_rpm_message.pop_back();
    return 0;  // handled: do not print
}

void init_rpm() {
    static std::once_flag once;
    std::call_once(once, [] {
        rpmReadConfigFiles(nullptr, nullptr);
        rpmlogSetCallback(capture_log, nullptr);
    });
}

}  // namespace

struct SignatureChecker::Impl {
    rpmts ts = nullptr;
    ~Impl() {
        if (ts) rpmtsFree(ts);
    }
};

SignatureChecker::SignatureChecker(const std::vector<std::filesystem::path>& keys)
    : impl_(std::make_unique<Impl>()) {
    init_rpm();
    impl_->ts = rpmtsCreate();
    rpmKeyring keyring = rpmKeyringNew();
    for (const auto& k : keys) {
        rpmPubkey key = rpmPubkeyRead(k.c_str());
        if (!key) {
            rpmKeyringFree(keyring);
            throw InputError(k.string() + ": not an ASCII-armored OpenPGP public key");
        }
        rpmKeyringAddKey(keyring, key);
        rpmPubkeyFree(key);
        ++keys_;
    }
    rpmtsSetKeyring(impl_->ts, keyring);  // the transaction set keeps its own reference
    rpmKeyringFree(keyring);
}

SignatureChecker::~SignatureChecker() = default;

SignatureCheck SignatureChecker::check(const std::filesystem::path& rpm) {
    FD_t fd = Fopen(rpm.c_str(), "r.ufdio");
    if (!fd || Ferror(fd)) {
        if (fd) Fclose(fd);
        throw InputError(rpm.string() + ": cannot open for signature checking");
    }
    Header h = nullptr;
    last_rpm_message.clear();
    rpmRC rc = rpmReadPackageFile(impl_->ts, fd, rpm.c_str(), &h);
    Fclose(fd);
    bool is_signed =
        h && (headerIsEntry(h, RPMTAG_RSAHEADER) || headerIsEntry(h, RPMTAG_DSAHEADER) ||
              headerIsEntry(h, RPMTAG_SIGPGP) || headerIsEntry(h, RPMTAG_SIGGPG));
    if (h) headerFree(h);
    SignatureCheck out;
    out.detail = last_rpm_message;
    switch (rc) {
        case RPMRC_OK:
            out.state = is_signed ? (keys_ ? SignatureCheck::State::verified
                                           : SignatureCheck::State::unchecked)
                                  : SignatureCheck::State::unsigned_package;
            break;
        case RPMRC_NOKEY:
        case RPMRC_NOTTRUSTED:
            out.state =
                keys_ ? SignatureCheck::State::unknown_key : SignatureCheck::State::unchecked;
            break;
        case RPMRC_NOTFOUND:
            throw InputError(rpm.string() + ": not an RPM package");
        default:
            out.state = SignatureCheck::State::bad;
            break;
    }
    return out;
}

}  // namespace airstrap::mirror
