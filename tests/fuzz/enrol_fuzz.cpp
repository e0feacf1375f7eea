// libFuzzer target: any bytes as an enrolment message or beacon (the first byte picks which)
// must decode or be refused with ProtocolError — never crash, hang or trip a sanitizer — and
// whatever decodes must encode back to a message that decodes to the same fields and must not
// verify under the site's keys (the fuzzer cannot know the secret).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "firstboot/protocol.hpp"

namespace proto = airstrap::firstboot::proto;

namespace {

const proto::Keys& keys() {
    static const proto::Keys k = proto::derive_keys(airstrap::crypto::Bytes(32, 7));
    return k;
}

void check(bool ok) {
    if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    try {
        switch (data[0] % 6) {
            case 0: {
                proto::Hello h = proto::decode_hello(text);
                proto::Hello again = proto::decode_hello(proto::encode(h));
                check(again.node == h.node && again.nonce == h.nonce &&
                      again.host_keys == h.host_keys && again.body == h.body &&
                      again.purpose == h.purpose);
                break;
            }
            case 1: {
                proto::Challenge c = proto::decode_challenge(text);
                check(proto::decode_challenge(proto::encode(c)).proof == c.proof);
                proto::Hello h;
                h.node = "compute-node";
                h.nonce = airstrap::crypto::Bytes(32, 1);
                h.host_keys = c.host_keys;
                check(!proto::verify_controller(keys(), h, c));
                break;
            }
            case 2: {
                proto::Result r = proto::decode_result(text);
                check(proto::decode_result(proto::encode(r)).body == r.body);
                break;
            }
            case 3: {
                proto::Beacon b = proto::decode_beacon(text);
                check(!proto::verify_beacon(keys(), b));
                break;
            }
            case 4: {
                (void)proto::decode_response(text);
                break;
            }
            case 5: {
                if (text.size() >= 4) {
                    std::size_t n =
                        proto::frame_length(reinterpret_cast<const unsigned char*>(text.data()));
                    check(n >= 1 && n <= proto::max_frame);
                }
                (void)proto::normalise_host_key(text);
                break;
            }
        }
    } catch (const proto::ProtocolError&) {
    }
    return 0;
}
