// The enrolment protocol between a node and the controller: pure functions over bytes, no
// sockets, so every rule is unit-tested and fuzzed.
//
// Keys come from the 32-byte site secret through HKDF-SHA256, one per purpose (beacon, the
// controller's proof, the node's proof, the controller's result). A TCP session is four
// frames, each a 4-byte big-endian length and a JSON object of at most max_frame bytes:
//
//   node → controller   hello      {v, type, node, purpose, nonce, host_keys, body}
//   controller → node   challenge  {v, type, nonce, host_keys, proof}
//   node → controller   response   {v, type, proof}
//   controller → node   result     {v, type, ok, error, body, mac}
//
// proof_c = HMAC(K_controller, T1), T1 = the hello and the controller's nonce and host keys;
// proof_n = HMAC(K_node, T1 ‖ proof_c); mac = HMAC(K_result, T1 ‖ proof_n ‖ ok ‖ error ‖ body).
// Both nonces are fresh, so nothing from one session verifies in another (no replay, no clock
// needed), and both ends' SSH host keys are bound into every proof. Neither side acts on a
// message before its proof verifies; the node's request body is covered by proof_n.
//
// Beacons (UDP, hints only): {v, type:"beacon", node, nonce, mac = HMAC(K_beacon, node ‖ nonce)}.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/crypto.hpp"
#include "common/error.hpp"

namespace airstrap::firstboot::proto {

inline constexpr int version = 1;
inline constexpr std::size_t max_frame = 64 * 1024;
inline constexpr std::size_t nonce_size = 32;
inline constexpr std::size_t max_host_keys = 8;
inline constexpr std::size_t max_key_length = 16 * 1024;
inline constexpr std::size_t max_name_length = 63;

// A message that does not parse or verify. The text never contains key material.
class ProtocolError : public Error {
  public:
    using Error::Error;
};

struct Keys {
    crypto::Bytes beacon, controller_proof, node_proof, result;
};
Keys derive_keys(const crypto::Bytes& site_secret);

enum class Purpose { enrol, roster, report };
const char* to_string(Purpose p);

struct Hello {
    std::string node;
    Purpose purpose = Purpose::enrol;
    crypto::Bytes nonce;                 // nonce_size
    std::vector<std::string> host_keys;  // the node's SSH host public keys
    std::string body;                    // request payload (JSON text), covered by proof_n
};
struct Challenge {
    crypto::Bytes nonce;
    std::vector<std::string> host_keys;  // the controller's
    crypto::Bytes proof;
};
struct Response {
    crypto::Bytes proof;
};
struct Result {
    bool ok = false;
    std::string error;  // why the controller refused, for the node's log and status
    std::string body;   // response payload (JSON text)
    crypto::Bytes mac;
};
struct Beacon {
    std::string node;
    crypto::Bytes nonce;  // 16 bytes
    crypto::Bytes mac;
};

// Serialise to a frame body (JSON text, without the length prefix).
std::string encode(const Hello& m);
std::string encode(const Challenge& m);
std::string encode(const Response& m);
std::string encode(const Result& m);
std::string encode(const Beacon& m);

// Parse a frame body; ProtocolError if it is not exactly the expected message (wrong type or
// version, missing/extra/ill-typed fields, bad sizes, node names that are not [a-z0-9-]).
Hello decode_hello(std::string_view frame);
Challenge decode_challenge(std::string_view frame);
Response decode_response(std::string_view frame);
Result decode_result(std::string_view frame);
Beacon decode_beacon(std::string_view frame);

// A 4-byte big-endian length and the body. frame_length() reads a header: ProtocolError if
// it exceeds max_frame or is zero.
std::string frame(const std::string& body);
std::size_t frame_length(const unsigned char header[4]);

// The proofs. Each verify_* compares in constant time.
crypto::Bytes controller_proof(const Keys& k, const Hello& h, const Challenge& c);
crypto::Bytes node_proof(const Keys& k, const Hello& h, const Challenge& c);
crypto::Bytes result_mac(const Keys& k, const Hello& h, const Challenge& c, const Response& r,
                         const Result& res);
bool verify_controller(const Keys& k, const Hello& h, const Challenge& c);
bool verify_node(const Keys& k, const Hello& h, const Challenge& c, const Response& r);
bool verify_result(const Keys& k, const Hello& h, const Challenge& c, const Response& r,
                   const Result& res);

Beacon make_beacon(const Keys& k, const std::string& node);
bool verify_beacon(const Keys& k, const Beacon& b);

// A host key line as pinned and compared: "type base64", comment dropped; ProtocolError if
// it is not one.
std::string normalise_host_key(std::string_view line);

}  // namespace airstrap::firstboot::proto
