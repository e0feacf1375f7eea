// libFuzzer target: any bytes as an enrolment message or beacon (the first byte picks which)
// must decode or be refused with ProtocolError — never crash, hang or trip a sanitizer — and
// whatever decodes must encode back to a message that decodes to the same fields and must not
// verify under the site's keys (the fuzzer knows neither the controller's signing key nor a
// node's key): a challenge or result signature, a node's proof, a beacon MAC.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "firstboot/protocol.hpp"
#include "node/credentials.hpp"

namespace proto = airstrap::firstboot::proto;

namespace {

const airstrap::crypto::Bytes& site_secret() {
    static const airstrap::crypto::Bytes s(32, 7);
    return s;
}

const proto::NodeKeys& keys() {
    static const proto::NodeKeys k =
        proto::derive_node_keys(airstrap::node::node_key(site_secret(), "compute-node"));
    return k;
}

const airstrap::crypto::Bytes& controller_key() {
    static const airstrap::crypto::Bytes k = airstrap::node::controller_public_key(site_secret());
    return k;
}

proto::Hello some_hello(const std::vector<std::string>& host_keys) {
    proto::Hello h;
    h.node = "compute-node";
    h.nonce = airstrap::crypto::Bytes(32, 1);
    h.host_keys = host_keys;
    h.body = "{}";
    return h;
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
                proto::Challenge again = proto::decode_challenge(proto::encode(c));
                check(again.sig == c.sig && again.nonce == c.nonce &&
                      again.host_keys == c.host_keys);
                proto::Hello h = some_hello(c.host_keys);
                check(!proto::verify_challenge(controller_key(), h, c));
                break;
            }
            case 2: {
                proto::Result r = proto::decode_result(text);
                proto::Result again = proto::decode_result(proto::encode(r));
                check(again.body == r.body && again.error == r.error && again.ok == r.ok &&
                      again.sig == r.sig);
                proto::Challenge c;
                c.nonce = airstrap::crypto::Bytes(32, 2);
                c.host_keys = {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFuzzControllerKey0"};
                c.sig = airstrap::crypto::Bytes(64, 3);
                check(!proto::verify_result(controller_key(), some_hello(c.host_keys), c,
                                            proto::Response{airstrap::crypto::Bytes(32, 4)}, r));
                break;
            }
            case 3: {
                proto::Beacon b = proto::decode_beacon(text);
                check(!proto::verify_beacon(keys(), b));
                break;
            }
            case 4: {
                proto::Response r = proto::decode_response(text);
                check(proto::decode_response(proto::encode(r)).proof == r.proof);
                proto::Challenge c;
                c.nonce = airstrap::crypto::Bytes(32, 2);
                c.host_keys = {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFuzzControllerKey0"};
                c.sig = airstrap::crypto::Bytes(64, 3);
                check(!proto::verify_node(keys(), some_hello(c.host_keys), c, r));
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
