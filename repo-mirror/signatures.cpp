#include "repo-mirror/signatures.hpp"

#include <rpm/header.h>
#include <rpm/rpmkeyring.h>
#include <rpm/rpmlib.h>
#include <rpm/rpmlog.h>
#include <rpm/rpmts.h>

#include <memory>
#include <mutex>
#include <type_traits>

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

// One owner per librpm handle (its types are pointers), freed by the library's own call.
template <typename Handle, auto free_fn>
struct RpmFree {
    void operator()(Handle h) const { free_fn(h); }
};
template <typename Handle, auto free_fn>
using RpmPtr = std::unique_ptr<std::remove_pointer_t<Handle>, RpmFree<Handle, free_fn>>;

using TransactionSet = RpmPtr<rpmts, rpmtsFree>;
using Keyring = RpmPtr<rpmKeyring, rpmKeyringFree>;
using Pubkey = RpmPtr<rpmPubkey, rpmPubkeyFree>;
using RpmFile = RpmPtr<FD_t, Fclose>;

}  // namespace

void RpmHeaderFree::operator()(headerToken_s* h) const {
    headerFree(h);
}

struct SignatureChecker::Impl {
    TransactionSet ts;
};

SignatureChecker::SignatureChecker(const std::vector<std::filesystem::path>& keys)
    : impl_(std::make_unique<Impl>()) {
    init_rpm();
    impl_->ts.reset(rpmtsCreate());
    if (!impl_->ts) throw Error("librpm: cannot create a transaction set");
    Keyring keyring(rpmKeyringNew());
    for (const auto& k : keys) {
        Pubkey key(rpmPubkeyRead(k.c_str()));
        if (!key) throw InputError(k.string() + ": not an ASCII-armored OpenPGP public key");
        rpmKeyringAddKey(keyring.get(), key.get());
        ++keys_;
    }
    // The transaction set keeps its own reference.
    rpmtsSetKeyring(impl_->ts.get(), keyring.get());
}

SignatureChecker::~SignatureChecker() = default;

SignatureCheck SignatureChecker::check(const std::filesystem::path& rpm) {
    SignatureCheck out;
    rpmRC rc;
    bool is_signed;
    {
        RpmFile fd(Fopen(rpm.c_str(), "r.ufdio"));
        if (!fd || Ferror(fd.get()))
            throw InputError(rpm.string() + ": cannot open for signature checking");
        Header raw = nullptr;
        last_rpm_message.clear();
        rc = rpmReadPackageFile(impl_->ts.get(), fd.get(), rpm.c_str(), &raw);
        out.header.reset(raw);
        Header h = out.header.get();
        is_signed =
            h && (headerIsEntry(h, RPMTAG_RSAHEADER) || headerIsEntry(h, RPMTAG_DSAHEADER) ||
                  headerIsEntry(h, RPMTAG_SIGPGP) || headerIsEntry(h, RPMTAG_SIGGPG));
    }
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
