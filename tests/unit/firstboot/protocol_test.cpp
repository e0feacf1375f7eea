#include "firstboot/protocol.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

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

struct Session {
    Keys keys = derive_keys(secret(1));
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
        challenge.proof = controller_proof(keys, hello, challenge);
        response.proof = node_proof(keys, hello, challenge);
        result.ok = true;
        result.body = R"({"controller_key":"ssh-ed25519 AAAA"})";
        result.mac = result_mac(keys, hello, challenge, response, result);
    }
};

// The expected values were computed independently (Python's hmac/hashlib, from the
// transcript layout documented in protocol.cpp): they pin the wire format, so a node built
// by one airstrap version still enrols with a controller built by another.
TEST(Protocol, TestVectors) {
    Session s;
    EXPECT_EQ(crypto::to_hex(s.keys.controller_proof),
              "6a1b097baac956c73eb1401f0266a09962c4ba8c51e75f29ebe96de855fa1c38");
    EXPECT_EQ(crypto::to_hex(s.challenge.proof),
              "535bd3df8ed6f9f401ce6337a2cb52f28f813a4d9a9e4dfd6d4762fb41d20cb6");
    EXPECT_EQ(crypto::to_hex(s.response.proof),
              "1a3f0a966240609203fe3e89fd3eb822d0cc2013239f46be6f616549142ac182");
    EXPECT_EQ(crypto::to_hex(s.result.mac),
              "57f7fa82e7990cb5e1bc4dfcadcfd457d7c5c687d6f2cba4e57ad6654d8999ba");
    Beacon b;
    b.node = "compute-node";
    b.nonce = Bytes(16, 0xcc);
    ASSERT_TRUE(crypto::from_hex("8053baff51f48927d734c6e61ba328fddbe760e6c127c2e52d4b889100324c84",
                                 b.mac));
    EXPECT_TRUE(verify_beacon(s.keys, b));
}

TEST(Protocol, HonestSessionVerifiesAndSurvivesEncoding) {
    Session s;
    Hello h = decode_hello(encode(s.hello));
    Challenge c = decode_challenge(encode(s.challenge));
    Response r = decode_response(encode(s.response));
    Result res = decode_result(encode(s.result));
    EXPECT_TRUE(verify_controller(s.keys, h, c));
    EXPECT_TRUE(verify_node(s.keys, h, c, r));
    EXPECT_TRUE(verify_result(s.keys, h, c, r, res));
    EXPECT_EQ(h.node, "compute-node");
    EXPECT_EQ(h.host_keys, std::vector<std::string>{node_key});
    EXPECT_EQ(res.body, s.result.body);
}

TEST(Protocol, EveryBoundFieldIsCovered) {
    std::vector<std::function<void(Session&)>> tamper = {
        [](Session& s) { s.hello.node = "network-node"; },
        [](Session& s) { s.hello.purpose = Purpose::roster; },
        [](Session& s) { s.hello.nonce[5] ^= 1; },
        [](Session& s) { s.hello.host_keys = {controller_key}; },
        [](Session& s) { s.hello.body = R"({"steps":[]})"; },
        [](Session& s) { s.challenge.nonce[0] ^= 0x80; },
        [](Session& s) { s.challenge.host_keys = {node_key}; },
    };
    for (std::size_t i = 0; i < tamper.size(); ++i) {
        Session s;
        tamper[i](s);
        EXPECT_FALSE(verify_controller(s.keys, s.hello, s.challenge)) << "case " << i;
        EXPECT_FALSE(verify_node(s.keys, s.hello, s.challenge, s.response)) << "case " << i;
        EXPECT_FALSE(verify_result(s.keys, s.hello, s.challenge, s.response, s.result))
            << "case " << i;
    }
    Session s;
    s.result.ok = false;
    EXPECT_FALSE(verify_result(s.keys, s.hello, s.challenge, s.response, s.result));
    s = Session();
    s.result.body = R"({"controller_key":"ssh-ed25519 BBBB"})";
    EXPECT_FALSE(verify_result(s.keys, s.hello, s.challenge, s.response, s.result));
    s = Session();
    s.response.proof[31] ^= 1;
    EXPECT_FALSE(verify_node(s.keys, s.hello, s.challenge, s.response));
}

TEST(Protocol, ReplayIntoAnotherSessionFails) {
    Session first;
    Session second;
    second.challenge.nonce = Bytes(32, 0x42);  // the controller's fresh nonce
    second.challenge.proof = controller_proof(second.keys, second.hello, second.challenge);
    // An eavesdropper replays the node's response (and the controller's result) of session 1.
    EXPECT_FALSE(verify_node(second.keys, second.hello, second.challenge, first.response));
    second.response = first.response;
    EXPECT_FALSE(
        verify_result(second.keys, second.hello, second.challenge, second.response, first.result));
    // A replayed challenge against a node's fresh hello nonce.
    Session third;
    third.hello.nonce = Bytes(32, 0x17);
    EXPECT_FALSE(verify_controller(third.keys, third.hello, first.challenge));
}

TEST(Protocol, WrongSecretIsRefusedBothWays) {
    Session s;
    Keys other = derive_keys(secret(2));
    EXPECT_FALSE(verify_controller(other, s.hello, s.challenge));  // node with another secret
    EXPECT_FALSE(verify_node(other, s.hello, s.challenge, s.response));
    Response forged{node_proof(other, s.hello, s.challenge)};
    EXPECT_FALSE(verify_node(s.keys, s.hello, s.challenge, forged));
    Beacon b = make_beacon(other, "compute-node");
    EXPECT_FALSE(verify_beacon(s.keys, b));
    EXPECT_TRUE(verify_beacon(other, b));
    b.node = "network-node";
    EXPECT_FALSE(verify_beacon(other, b));
}

TEST(Protocol, KeysArePerPurposeAndNeedThirtyTwoBytes) {
    Keys k = derive_keys(secret(1));
    EXPECT_NE(k.beacon, k.controller_proof);
    EXPECT_NE(k.controller_proof, k.node_proof);
    EXPECT_NE(k.node_proof, k.result);
    EXPECT_THROW(derive_keys(Bytes(31, 1)), ProtocolError);
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
    expect_rejected(hello_json([](json& j) { j["v"] = 2; }), "version");
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
        decode_result(R"({"v":1,"type":"result","ok":"yes","error":"","body":"","mac":""})"),
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
