#include "firstboot/protocol.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "node/credentials.hpp"

namespace airstrap::firstboot::proto {
namespace {

using crypto::Bytes;

const std::string node_key =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfComputeNode0000000000000000";
const std::string controller_key =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfTheController00000000000000";

Bytes secret(std::uint8_t first) {
    Bytes b(32);
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(first + i);
    return b;
}

Bytes hex(const std::string& s) {
    Bytes b;
    if (!crypto::from_hex(s, b)) ADD_FAILURE() << "not hex: " << s;
    return b;
}

// A session of the site whose secret is secret(1): compute-node's keys, the controller's.
struct Session {
    Bytes site_secret = secret(1);
    Bytes seed = node::controller_signing_seed(site_secret);
    Bytes controller = node::controller_public_key(site_secret);
    NodeKeys keys = derive_node_keys(node::node_key(site_secret, "compute-node"));
    Hello hello;
    Challenge challenge;
    Response response;
    Result result;

    Session() {
        hello.node = "compute-node";
        hello.purpose = Purpose::enrol;
        hello.nonce = Bytes(32, 0xaa);
        hello.host_keys = {node_key};
        hello.body = "{}";
        challenge.nonce = Bytes(32, 0xbb);
        challenge.host_keys = {controller_key};
        challenge.sig = sign_challenge(seed, hello, challenge);
        response.proof = node_proof(keys, hello, challenge);
        result.ok = true;
        result.body = R"({"controller_key":"ssh-ed25519 AAAA"})";
        result.sig = sign_result(seed, hello, challenge, response, result);
    }
    bool challenge_ok() const { return verify_challenge(controller, hello, challenge); }
    bool node_ok() const { return verify_node(keys, hello, challenge, response); }
    bool result_ok() const { return verify_result(controller, hello, challenge, response, result); }
};

// tests/data/protocol-vectors.json: computed independently by tests/tools/protocol_vectors.py
// (Python's hmac/hashlib and cryptography's Ed25519). They pin the wire format, so a node
// built by one airstrap version still enrols with a controller built by another.
nlohmann::json vectors() {
    std::ifstream in(std::string(AIRSTRAP_TEST_DATA) + "/protocol-vectors.json");
    return nlohmann::json::parse(in);
}

std::vector<std::string> strings(const nlohmann::json& j) {
    return j.get<std::vector<std::string>>();
}

TEST(Protocol, KeysMatchTheIndependentVectors) {
    auto v = vectors();
    Bytes site = hex(v["site_secret"]);
    EXPECT_EQ(crypto::to_hex(node::controller_signing_seed(site)), v["controller_signing_seed"]);
    EXPECT_EQ(crypto::to_hex(node::controller_public_key(site)), v["controller_public_key"]);
    ASSERT_EQ(v["nodes"].size(), 3u);
    for (const auto& [name, n] : v["nodes"].items()) {
        Bytes k = node::node_key(site, name);
        EXPECT_EQ(crypto::to_hex(k), n["node_key"]) << name;
        NodeKeys nk = derive_node_keys(k);
        EXPECT_EQ(crypto::to_hex(nk.beacon), n["beacon_key"]) << name;
        EXPECT_EQ(crypto::to_hex(nk.proof), n["proof_key"]) << name;
    }
    Beacon b{v["beacon"]["node"], hex(v["beacon"]["nonce"]), hex(v["beacon"]["mac"])};
    NodeKeys nk = derive_node_keys(node::node_key(site, b.node));
    EXPECT_EQ(crypto::to_hex(beacon_mac(nk, b.node, b.nonce)), v["beacon"]["mac"]);
    EXPECT_TRUE(verify_beacon(nk, b));
}

TEST(Protocol, SessionsMatchTheIndependentVectors) {
    auto v = vectors();
    Bytes site = hex(v["site_secret"]);
    Bytes seed = node::controller_signing_seed(site);
    Bytes pub = hex(v["controller_public_key"]);
    ASSERT_EQ(v["sessions"].size(), 2u);
    for (const auto& sv : v["sessions"]) {
        Hello h;
        h.node = sv["hello"]["node"];
        std::string purpose = sv["hello"]["purpose"];
        h.purpose = purpose == "enrol"    ? Purpose::enrol
                    : purpose == "roster" ? Purpose::roster
                                          : Purpose::report;
        h.nonce = hex(sv["hello"]["nonce"]);
        h.host_keys = strings(sv["hello"]["host_keys"]);
        h.body = sv["hello"]["body"];
        Challenge c;
        c.nonce = hex(sv["challenge"]["nonce"]);
        c.host_keys = strings(sv["challenge"]["host_keys"]);
        std::string t1 = transcript(h, c);
        EXPECT_EQ(crypto::to_hex(Bytes(t1.begin(), t1.end())), sv["t1"]);
        c.sig = sign_challenge(seed, h, c);
        EXPECT_EQ(crypto::to_hex(c.sig), sv["challenge"]["sig"]);
        EXPECT_TRUE(verify_challenge(pub, h, c));
        NodeKeys nk = derive_node_keys(node::node_key(site, h.node));
        Response r{node_proof(nk, h, c)};
        EXPECT_EQ(crypto::to_hex(r.proof), sv["response"]["proof"]);
        EXPECT_TRUE(verify_node(nk, h, c, r));
        Result res;
        res.ok = sv["result"]["ok"];
        res.error = sv["result"]["error"];
        res.body = sv["result"]["body"];
        res.sig = sign_result(seed, h, c, r, res);
        EXPECT_EQ(crypto::to_hex(res.sig), sv["result"]["sig"]);
        EXPECT_TRUE(verify_result(pub, h, c, r, res));
        // Decoded from the wire, the same values still verify.
        Hello h2 = decode_hello(encode(h));
        Challenge c2 = decode_challenge(encode(c));
        Result res2 = decode_result(encode(res));
        EXPECT_TRUE(verify_challenge(pub, h2, c2));
        EXPECT_TRUE(verify_result(pub, h2, c2, decode_response(encode(r)), res2));
    }
}

TEST(Protocol, HonestSessionVerifiesAndSurvivesEncoding) {
    Session s;
    Hello h = decode_hello(encode(s.hello));
    Challenge c = decode_challenge(encode(s.challenge));
    Response r = decode_response(encode(s.response));
    Result res = decode_result(encode(s.result));
    EXPECT_TRUE(verify_challenge(s.controller, h, c));
    EXPECT_TRUE(verify_node(s.keys, h, c, r));
    EXPECT_TRUE(verify_result(s.controller, h, c, r, res));
    EXPECT_EQ(h.node, "compute-node");
    EXPECT_EQ(h.host_keys, std::vector<std::string>{node_key});
    EXPECT_EQ(res.body, s.result.body);
}

// Each field the transcript binds, changed after signing: nothing verifies any more.
TEST(Protocol, EverySignedFieldIsCovered) {
    const std::string other_key =
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDsomeoneElsesKey000000000000000000";
    // Fields of T1: the challenge signature, the proof and the result's all fail.
    std::vector<std::pair<const char*, std::function<void(Session&)>>> t1 = {
        {"hello.node", [](Session& s) { s.hello.node = "network-node"; }},
        {"hello.purpose", [](Session& s) { s.hello.purpose = Purpose::roster; }},
        {"hello.nonce", [](Session& s) { s.hello.nonce[5] ^= 1; }},
        {"hello.host_keys", [](Session& s) { s.hello.host_keys = {controller_key}; }},
        {"hello.host_keys (one added)",
         [&](Session& s) { s.hello.host_keys.push_back(other_key); }},
        {"hello.body", [](Session& s) { s.hello.body = R"({"steps":[]})"; }},
        {"challenge.nonce", [](Session& s) { s.challenge.nonce[0] ^= 0x80; }},
        {"challenge.host_keys", [](Session& s) { s.challenge.host_keys = {node_key}; }},
        {"challenge.host_keys (one added)",
         [&](Session& s) { s.challenge.host_keys.push_back(other_key); }},
    };
    for (const auto& [what, tamper] : t1) {
        Session s;
        tamper(s);
        EXPECT_FALSE(s.challenge_ok()) << what;
        EXPECT_FALSE(s.node_ok()) << what;
        EXPECT_FALSE(s.result_ok()) << what;
    }
    // After T1: the challenge signature is covered by the proof and the result's signature.
    Session s;
    s.challenge.sig[10] ^= 1;
    EXPECT_FALSE(s.challenge_ok());
    EXPECT_FALSE(s.node_ok());
    EXPECT_FALSE(s.result_ok());
    s = Session();
    s.response.proof[31] ^= 1;
    EXPECT_TRUE(s.challenge_ok());
    EXPECT_FALSE(s.node_ok());
    EXPECT_FALSE(s.result_ok());
    std::vector<std::pair<const char*, std::function<void(Session&)>>> result = {
        {"result.ok", [](Session& x) { x.result.ok = false; }},
        {"result.error", [](Session& x) { x.result.error = "refused"; }},
        {"result.body",
         [](Session& x) { x.result.body = R"({"controller_key":"ssh-ed25519 BBBB"})"; }},
        {"result.sig", [](Session& x) { x.result.sig[63] ^= 1; }},
    };
    for (const auto& [what, tamper] : result) {
        Session t;
        tamper(t);
        EXPECT_TRUE(t.challenge_ok()) << what;
        EXPECT_TRUE(t.node_ok()) << what;
        EXPECT_FALSE(t.result_ok()) << what;
    }
    // A refusal cannot be turned into an acceptance either.
    Session r;
    r.result.ok = false;
    r.result.error = "not enrolled yet";
    r.result.body = "";
    r.result.sig = sign_result(r.seed, r.hello, r.challenge, r.response, r.result);
    EXPECT_TRUE(r.result_ok());
    r.result.ok = true;
    EXPECT_FALSE(r.result_ok());
}

TEST(Protocol, ReplayIntoAnotherSessionFails) {
    Session first;
    Session second;
    second.challenge.nonce = Bytes(32, 0x42);  // the controller's fresh nonce
    second.challenge.sig = sign_challenge(second.seed, second.hello, second.challenge);
    // An eavesdropper replays the node's response (and the controller's result) of session 1.
    EXPECT_FALSE(verify_node(second.keys, second.hello, second.challenge, first.response));
    second.response = first.response;
    second.result = first.result;
    EXPECT_FALSE(second.result_ok());
    // A replayed challenge against a node's fresh hello nonce.
    Session third;
    third.hello.nonce = Bytes(32, 0x17);
    EXPECT_FALSE(verify_challenge(third.controller, third.hello, first.challenge));
    // The challenge's signature is not a result's, nor the other way round.
    Result as_result = first.result;
    as_result.sig = first.challenge.sig;
    EXPECT_FALSE(
        verify_result(first.controller, first.hello, first.challenge, first.response, as_result));
}

// A node's key proves that node and nothing more.
TEST(Protocol, ANodeKeyProvesOnlyItsNode) {
    Session s;
    Bytes site = s.site_secret;
    NodeKeys network = derive_node_keys(node::node_key(site, "network-node"));
    // compute-node's key cannot answer for network-node…
    Session as_network;
    as_network.hello.node = "network-node";
    as_network.challenge.sig = sign_challenge(s.seed, as_network.hello, as_network.challenge);
    as_network.response.proof = node_proof(s.keys, as_network.hello, as_network.challenge);
    EXPECT_FALSE(verify_node(network, as_network.hello, as_network.challenge, as_network.response));
    // …nor sign as the controller (its key is an HMAC key, the controller's an Ed25519 one):
    // a "controller" signing with a seed made from any node's key is refused.
    for (const Bytes& seed : {s.keys.proof, s.keys.beacon, node::node_key(site, "compute-node")}) {
        Challenge c = s.challenge;
        c.sig = crypto::ed25519_sign(seed, transcript(s.hello, c));
        EXPECT_FALSE(verify_challenge(s.controller, s.hello, c));
    }
    // Another site's controller is not this site's.
    Bytes other = node::controller_public_key(secret(2));
    EXPECT_FALSE(verify_challenge(other, s.hello, s.challenge));
    EXPECT_FALSE(verify_result(other, s.hello, s.challenge, s.response, s.result));
    // Beacons: under the named node's key only.
    Beacon b = make_beacon(s.keys, "compute-node");
    EXPECT_TRUE(verify_beacon(s.keys, b));
    EXPECT_FALSE(verify_beacon(network, b));
    b.node = "network-node";
    EXPECT_FALSE(verify_beacon(s.keys, b));
    EXPECT_FALSE(verify_beacon(network, b));
    // Keys of the wrong size verify nothing and derive nothing.
    EXPECT_FALSE(verify_challenge(Bytes(31, 1), s.hello, s.challenge));
    EXPECT_THROW(derive_node_keys(Bytes(31, 1)), ProtocolError);
    EXPECT_NE(s.keys.beacon, s.keys.proof);
}

std::string hello_json(const std::function<void(nlohmann::json&)>& edit) {
    Session s;
    nlohmann::json j = nlohmann::json::parse(encode(s.hello));
    edit(j);
    return j.dump();
}

void expect_rejected(const std::string& frame, const std::string& why) {
    try {
        decode_hello(frame);
        ADD_FAILURE() << "accepted: " << frame;
    } catch (const ProtocolError& e) {
        EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
}

TEST(Protocol, MalformedMessagesAreRejected) {
    using nlohmann::json;
    expect_rejected("", "not a JSON object");
    expect_rejected("[]", "not a JSON object");
    std::string good = hello_json([](json&) {});
    for (std::size_t cut : {good.size() / 2, good.size() - 1})
        expect_rejected(good.substr(0, cut), "not a JSON object");
    expect_rejected(hello_json([](json& j) { j["v"] = 3; }), "version 3");
    // A node of the previous protocol is told what to do.
    expect_rejected(hello_json([](json& j) { j["v"] = 1; }),
                    "speaks enrolment protocol version 1, this airstrap speaks version 2: "
                    "rebuild its media");
    expect_rejected(hello_json([](json& j) { j["type"] = "beacon"; }), "expected a hello");
    expect_rejected(hello_json([](json& j) { j["extra"] = 1; }), "unexpected fields");
    expect_rejected(hello_json([](json& j) { j.erase("nonce"); }), "unexpected fields");
    expect_rejected(hello_json([](json& j) { j["nonce"] = "abcd"; }), "32 bytes");
    expect_rejected(hello_json([](json& j) { j["nonce"] = std::string(64, 'z'); }), "32 bytes");
    expect_rejected(hello_json([](json& j) { j["node"] = "../etc"; }), "host name");
    expect_rejected(hello_json([](json& j) { j["node"] = std::string(64, 'a'); }), "too long");
    expect_rejected(hello_json([](json& j) { j["node"] = 7; }), "must be a string");
    expect_rejected(hello_json([](json& j) { j["purpose"] = "root"; }), "unknown purpose");
    expect_rejected(hello_json([](json& j) { j["host_keys"] = json::array(); }), "1 to 8");
    expect_rejected(hello_json([](json& j) { j["host_keys"] = {"not a key"}; }),
                    "not an SSH public key line");
    expect_rejected(hello_json([](json& j) { j["host_keys"] = {node_key + " root@x"}; }),
                    "'type base64'");
    expect_rejected(hello_json([](json& j) {
                        j["host_keys"] = {controller_key, node_key};
                    }),
                    "sorted");
    expect_rejected(std::string(max_frame + 1, ' '), "larger than");
    EXPECT_THROW(decode_challenge(good), ProtocolError);
    EXPECT_THROW(
        decode_result(R"({"v":2,"type":"result","ok":"yes","error":"","body":"","sig":""})"),
        ProtocolError);
}

TEST(Protocol, FramesHaveBoundedLengths) {
    std::string f = frame("{}");
    ASSERT_EQ(f.size(), 6u);
    EXPECT_EQ(frame_length(reinterpret_cast<const unsigned char*>(f.data())), 2u);
    const unsigned char zero[4] = {0, 0, 0, 0};
    const unsigned char huge[4] = {0, 1, 0, 1};  // max_frame + 1
    const unsigned char max[4] = {0, 1, 0, 0};
    EXPECT_THROW(frame_length(zero), ProtocolError);
    EXPECT_THROW(frame_length(huge), ProtocolError);
    EXPECT_EQ(frame_length(max), max_frame);
    EXPECT_THROW(frame(std::string(max_frame + 1, 'x')), ProtocolError);
    EXPECT_THROW(frame(""), ProtocolError);
}

TEST(Protocol, HostKeyLinesAreNormalised) {
    EXPECT_EQ(normalise_host_key(node_key + " root@compute-node\n"), node_key);
    EXPECT_EQ(normalise_host_key("  " + node_key), node_key);
    EXPECT_THROW(normalise_host_key("ssh-ed25519"), ProtocolError);
    EXPECT_THROW(normalise_host_key("rsa AAAAB3NzaC1yc2EAAAADAQABAAAB"), ProtocolError);
    EXPECT_THROW(normalise_host_key("ssh-rsa AAAA$(reboot)AAAAAAAAAAAAAAAAA"), ProtocolError);
}

}  // namespace
}  // namespace airstrap::firstboot::proto
