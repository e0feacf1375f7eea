// The enrolment protocol (version 2) between a node and the controller: pure functions over
// bytes, no sockets, so every rule is unit-tested and fuzzed.
//
// Keys (node/credentials.hpp): a node holds only its own node key; the controller holds the
// site secret, from which it derives any node's key and its Ed25519 signing key, whose public
// half is in every node's site.json (firstboot.controller_key). From a node key, HKDF-SHA256
// (salt "airstrap enrol v2") gives one key per purpose: "beacon v2" and "node proof v2".
//
// A TCP session is four frames, each a 4-byte big-endian length and a JSON object of at most
// max_frame bytes:
//
//   node → controller   hello      {v, type, node, purpose, nonce, host_keys, body}
//   controller → node   challenge  {v, type, nonce, host_keys, sig}
//   node → controller   response   {v, type, proof}
//   controller → node   result     {v, type, ok, error, body, sig}
//
// T1 = the transcript (label "airstrap enrol v2", then each field as a 4-byte big-endian
// length and its bytes; a key list as its count in decimal and then each key) of the hello's
// node, purpose, nonce, host keys and body and the challenge's nonce and host keys.
//   challenge sig = Ed25519(controller, T1)
//   proof         = HMAC-SHA256(node proof key of hello.node, T1 ‖ challenge sig)
//   result sig    = Ed25519(controller, T1 ‖ challenge sig ‖ proof ‖ ("ok"|"refused") ‖ error ‖
//   body)
// The node checks the challenge signature before it answers and the result's before it acts
// on it; the controller derives the node key of the name the hello gives and refuses a proof
// that does not verify (an unknown name has no key: refused the same way, after the
// challenge, so a peer cannot learn which names exist). Both nonces are fresh, so nothing
// from one session verifies in another (no replay, no clock), and both ends' SSH host keys
// are bound into every signature and proof. A node's key proves that node and nothing more:
// it verifies neither as another node (other key) nor as the controller (no signing key).
//
// Beacons (UDP, hints only): {v, type:"beacon", node, nonce (16 bytes),
// mac = HMAC-SHA256(beacon key of node, transcript "airstrap beacon v2" of node, nonce)}.
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

inline constexpr int version = 2;
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

inline constexpr std::size_t signature_size = 64;

// The keys one node key gives (both ends derive them: the node from its node.key, the
// controller from node_key(site secret, name)).
struct NodeKeys {
    crypto::Bytes beacon, proof;
};
NodeKeys derive_node_keys(const crypto::Bytes& node_key);

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
    crypto::Bytes sig;                   // Ed25519 over T1
};
struct Response {
    crypto::Bytes proof;
};
struct Result {
    bool ok = false;
    std::string error;  // why the controller refused, for the node's log and status
    std::string body;   // response payload (JSON text)
    crypto::Bytes sig;  // Ed25519 over T1 ‖ challenge sig ‖ proof ‖ ok ‖ error ‖ body
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
// version — a peer of another version is named as such —, missing/extra/ill-typed fields, bad
// sizes, node names that are not [a-z0-9-]).
Hello decode_hello(std::string_view frame);
Challenge decode_challenge(std::string_view frame);
Response decode_response(std::string_view frame);
Result decode_result(std::string_view frame);
Beacon decode_beacon(std::string_view frame);

// A 4-byte big-endian length and the body. frame_length() reads a header: ProtocolError if
// it exceeds max_frame or is zero.
std::string frame(const std::string& body);
std::size_t frame_length(const unsigned char header[4]);

// T1, the bytes the challenge signature covers (for the tests' independent vectors).
std::string transcript(const Hello& h, const Challenge& c);
// The bytes the result signature covers.
std::string result_transcript(const Hello& h, const Challenge& c, const Response& r,
                              const Result& res);

// Controller: sign with its Ed25519 seed (node::controller_signing_seed). Node: verify with
// the public key from site.json. Verification never throws; a key or signature of the wrong
// size does not verify.
crypto::Bytes sign_challenge(const crypto::Bytes& signing_seed, const Hello& h, const Challenge& c);
bool verify_challenge(const crypto::Bytes& controller_key, const Hello& h, const Challenge& c);
crypto::Bytes sign_result(const crypto::Bytes& signing_seed, const Hello& h, const Challenge& c,
                          const Response& r, const Result& res);
bool verify_result(const crypto::Bytes& controller_key, const Hello& h, const Challenge& c,
                   const Response& r, const Result& res);

// The node's proof under its keys; verify_node compares in constant time.
crypto::Bytes node_proof(const NodeKeys& k, const Hello& h, const Challenge& c);
bool verify_node(const NodeKeys& k, const Hello& h, const Challenge& c, const Response& r);

Beacon make_beacon(const NodeKeys& k, const std::string& node);
crypto::Bytes beacon_mac(const NodeKeys& k, const std::string& node, const crypto::Bytes& nonce);
bool verify_beacon(const NodeKeys& k, const Beacon& b);

// A host key line as pinned and compared: "type base64", comment dropped; ProtocolError if
// it is not one.
std::string normalise_host_key(std::string_view line);

}  // namespace airstrap::firstboot::proto
