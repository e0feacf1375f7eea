#include "firstboot/protocol.hpp"

#include <algorithm>
#include <initializer_list>
#include <nlohmann/json.hpp>

namespace airstrap::firstboot::proto {

namespace {

using nlohmann::json;

constexpr std::string_view salt = "airstrap enrol v2";

[[noreturn]] void reject(const std::string& why) {
    throw ProtocolError(why);
}

// The fields a proof covers, each as a 4-byte length and its bytes, after a label naming the
// message: no two different field lists give the same bytes.
class Transcript {
  public:
    explicit Transcript(std::string_view label) { add(label); }
    Transcript& add(std::string_view field) {
        auto n = static_cast<std::uint32_t>(field.size());
        const char len[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                             static_cast<char>(n >> 8), static_cast<char>(n)};
        bytes_.append(len, 4);
        bytes_.append(field);
        return *this;
    }
    Transcript& add(const crypto::Bytes& field) {
        return add(std::string_view(reinterpret_cast<const char*>(field.data()), field.size()));
    }
    Transcript& add(const std::vector<std::string>& fields) {
        add(std::to_string(fields.size()));
        for (const auto& f : fields) add(f);
        return *this;
    }
    const std::string& bytes() const { return bytes_; }

  private:
    std::string bytes_;
};

Transcript hello_challenge(const Hello& h, const Challenge& c) {
    Transcript t("airstrap enrol v2");
    t.add(h.node).add(to_string(h.purpose)).add(h.nonce).add(h.host_keys).add(h.body);
    t.add(c.nonce).add(c.host_keys);
    return t;
}

json parse_object(std::string_view frame, const char* type,
                  std::initializer_list<const char*> keys) {
    if (frame.size() > max_frame) reject("message larger than " + std::to_string(max_frame));
    json j = json::parse(frame, nullptr, false);
    if (j.is_discarded() || !j.is_object()) reject("message is not a JSON object");
    auto v = j.find("v");
    if (v == j.end() || !v->is_number_integer()) reject("message has no protocol version");
    if (v->get<long long>() != version) {
        long long got = v->get<long long>();
        reject("the peer speaks enrolment protocol version " +
               (got >= 0 && got < 1000 ? std::to_string(got) : std::string("?")) +
               ", this airstrap speaks version " + std::to_string(version) +
               (got < version ? ": rebuild its media with this airstrap (node.key, site.json "
                                "with controller_key)"
                              : ": update this host's airstrap to the peer's"));
    }
    auto t = j.find("type");
    if (t == j.end() || !t->is_string()) reject("message has no type");
    if (t->get<std::string>() != type)
        reject(std::string("expected a ") + type + " message, got '" +
               t->get<std::string>().substr(0, 32) + "'");
    if (j.size() != keys.size() + 2) reject(std::string(type) + ": unexpected fields");
    for (const char* k : keys) {
        if (!j.contains(k)) reject(std::string(type) + ": missing field '" + k + "'");
    }
    return j;
}

std::string get_string(const json& j, const char* key, std::size_t max) {
    const json& v = j.at(key);
    if (!v.is_string()) reject(std::string("field '") + key + "' must be a string");
    if (v.get_ref<const std::string&>().size() > max)
        reject(std::string("field '") + key + "' is too long");
    return v.get<std::string>();
}

crypto::Bytes get_hex(const json& j, const char* key, std::size_t size) {
    std::string s = get_string(j, key, size * 2);
    crypto::Bytes out;
    if (!crypto::from_hex(s, out) || out.size() != size)
        reject(std::string("field '") + key + "' must be " + std::to_string(size) +
               " bytes of hex");
    return out;
}

std::vector<std::string> get_host_keys(const json& j, const char* key) {
    const json& v = j.at(key);
    if (!v.is_array() || v.empty() || v.size() > max_host_keys)
        reject(std::string("field '") + key + "' must list 1 to " + std::to_string(max_host_keys) +
               " host keys");
    std::vector<std::string> out;
    for (const auto& k : v) {
        if (!k.is_string() || k.get_ref<const std::string&>().size() > max_key_length)
            reject(std::string("field '") + key + "' holds something that is not a host key");
        std::string n = normalise_host_key(k.get<std::string>());
        if (n != k.get<std::string>()) reject("host keys must be sent as 'type base64'");
        out.push_back(std::move(n));
    }
    if (!std::is_sorted(out.begin(), out.end()) ||
        std::adjacent_find(out.begin(), out.end()) != out.end())
        reject("host keys must be sorted and distinct");
    return out;
}

std::string get_node(const json& j) {
    std::string n = get_string(j, "node", max_name_length);
    bool ok = !n.empty() && n.front() != '-' && n.back() != '-' &&
              std::all_of(n.begin(), n.end(), [](char c) {
                  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '-';
              });
    if (!ok) reject("field 'node' is not a host name");
    return n;
}

std::vector<std::string> sorted_keys(std::vector<std::string> keys) {
    std::sort(keys.begin(), keys.end());
    return keys;
}

}  // namespace

const char* to_string(Purpose p) {
    switch (p) {
        case Purpose::enrol:
            return "enrol";
        case Purpose::roster:
            return "roster";
        case Purpose::report:
            return "report";
    }
    return "?";
}

NodeKeys derive_node_keys(const crypto::Bytes& node_key) {
    if (node_key.size() != 32) throw ProtocolError("a node key must be 32 bytes");
    return {
        crypto::hkdf_sha256(node_key, salt, "beacon v2", 32),
        crypto::hkdf_sha256(node_key, salt, "node proof v2", 32),
    };
}

std::string encode(const Hello& m) {
    return json{{"v", version},
                {"type", "hello"},
                {"node", m.node},
                {"purpose", to_string(m.purpose)},
                {"nonce", crypto::to_hex(m.nonce)},
                {"host_keys", sorted_keys(m.host_keys)},
                {"body", m.body}}
        .dump();
}

std::string encode(const Challenge& m) {
    return json{{"v", version},
                {"type", "challenge"},
                {"nonce", crypto::to_hex(m.nonce)},
                {"host_keys", sorted_keys(m.host_keys)},
                {"sig", crypto::to_hex(m.sig)}}
        .dump();
}

std::string encode(const Response& m) {
    return json{{"v", version}, {"type", "response"}, {"proof", crypto::to_hex(m.proof)}}.dump();
}

std::string encode(const Result& m) {
    return json{{"v", version},     {"type", "result"}, {"ok", m.ok},
                {"error", m.error}, {"body", m.body},   {"sig", crypto::to_hex(m.sig)}}
        .dump();
}

std::string encode(const Beacon& m) {
    return json{{"v", version},
                {"type", "beacon"},
                {"node", m.node},
                {"nonce", crypto::to_hex(m.nonce)},
                {"mac", crypto::to_hex(m.mac)}}
        .dump();
}

Hello decode_hello(std::string_view frame) {
    json j = parse_object(frame, "hello", {"node", "purpose", "nonce", "host_keys", "body"});
    Hello h;
    h.node = get_node(j);
    std::string p = get_string(j, "purpose", 16);
    if (p == "enrol") {
        h.purpose = Purpose::enrol;
    } else if (p == "roster") {
        h.purpose = Purpose::roster;
    } else if (p == "report") {
        h.purpose = Purpose::report;
    } else {
        reject("unknown purpose");
    }
    h.nonce = get_hex(j, "nonce", nonce_size);
    h.host_keys = get_host_keys(j, "host_keys");
    h.body = get_string(j, "body", max_frame);
    return h;
}

Challenge decode_challenge(std::string_view frame) {
    json j = parse_object(frame, "challenge", {"nonce", "host_keys", "sig"});
    Challenge c;
    c.nonce = get_hex(j, "nonce", nonce_size);
    c.host_keys = get_host_keys(j, "host_keys");
    c.sig = get_hex(j, "sig", signature_size);
    return c;
}

Response decode_response(std::string_view frame) {
    json j = parse_object(frame, "response", {"proof"});
    return {get_hex(j, "proof", 32)};
}

Result decode_result(std::string_view frame) {
    json j = parse_object(frame, "result", {"ok", "error", "body", "sig"});
    Result r;
    if (!j.at("ok").is_boolean()) reject("field 'ok' must be true or false");
    r.ok = j.at("ok").get<bool>();
    r.error = get_string(j, "error", 4096);
    r.body = get_string(j, "body", max_frame);
    r.sig = get_hex(j, "sig", signature_size);
    return r;
}

Beacon decode_beacon(std::string_view frame) {
    json j = parse_object(frame, "beacon", {"node", "nonce", "mac"});
    Beacon b;
    b.node = get_node(j);
    b.nonce = get_hex(j, "nonce", 16);
    b.mac = get_hex(j, "mac", 32);
    return b;
}

std::string frame(const std::string& body) {
    if (body.empty() || body.size() > max_frame)
        throw ProtocolError("message of " + std::to_string(body.size()) +
                            " bytes cannot be framed (limit " + std::to_string(max_frame) + ")");
    auto n = static_cast<std::uint32_t>(body.size());
    std::string out;
    out.reserve(4 + body.size());
    out += static_cast<char>(n >> 24);
    out += static_cast<char>(n >> 16);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n);
    out += body;
    return out;
}

std::size_t frame_length(const unsigned char header[4]) {
    std::uint32_t n = std::uint32_t{header[0]} << 24 | std::uint32_t{header[1]} << 16 |
                      std::uint32_t{header[2]} << 8 | header[3];
    if (n == 0 || n > max_frame)
        throw ProtocolError("frame length " + std::to_string(n) + " outside 1.." +
                            std::to_string(max_frame));
    return n;
}

std::string transcript(const Hello& h, const Challenge& c) {
    return hello_challenge(h, c).bytes();
}

std::string result_transcript(const Hello& h, const Challenge& c, const Response& r,
                              const Result& res) {
    Transcript t = hello_challenge(h, c);
    t.add(c.sig).add(r.proof).add(res.ok ? "ok" : "refused").add(res.error).add(res.body);
    return t.bytes();
}

crypto::Bytes sign_challenge(const crypto::Bytes& signing_seed, const Hello& h,
                             const Challenge& c) {
    return crypto::ed25519_sign(signing_seed, transcript(h, c));
}

bool verify_challenge(const crypto::Bytes& controller_key, const Hello& h, const Challenge& c) {
    return crypto::ed25519_verify(controller_key, transcript(h, c), c.sig);
}

crypto::Bytes sign_result(const crypto::Bytes& signing_seed, const Hello& h, const Challenge& c,
                          const Response& r, const Result& res) {
    return crypto::ed25519_sign(signing_seed, result_transcript(h, c, r, res));
}

bool verify_result(const crypto::Bytes& controller_key, const Hello& h, const Challenge& c,
                   const Response& r, const Result& res) {
    return crypto::ed25519_verify(controller_key, result_transcript(h, c, r, res), res.sig);
}

crypto::Bytes node_proof(const NodeKeys& k, const Hello& h, const Challenge& c) {
    Transcript t = hello_challenge(h, c);
    t.add(c.sig);
    return crypto::hmac_sha256(k.proof, t.bytes());
}

bool verify_node(const NodeKeys& k, const Hello& h, const Challenge& c, const Response& r) {
    return crypto::equal_constant_time(node_proof(k, h, c), r.proof);
}

crypto::Bytes beacon_mac(const NodeKeys& k, const std::string& node, const crypto::Bytes& nonce) {
    return crypto::hmac_sha256(k.beacon,
                               Transcript("airstrap beacon v2").add(node).add(nonce).bytes());
}

Beacon make_beacon(const NodeKeys& k, const std::string& node) {
    Beacon b;
    b.node = node;
    b.nonce = crypto::random_bytes(16);
    b.mac = beacon_mac(k, node, b.nonce);
    return b;
}

bool verify_beacon(const NodeKeys& k, const Beacon& b) {
    return crypto::equal_constant_time(beacon_mac(k, b.node, b.nonce), b.mac);
}

std::string normalise_host_key(std::string_view line) {
    auto is_space = [](char c) { return c == ' ' || c == '\t'; };
    std::size_t i = 0;
    auto word = [&]() {
        while (i < line.size() && is_space(line[i])) ++i;
        std::size_t start = i;
        while (i < line.size() && !is_space(line[i]) && line[i] != '\n' && line[i] != '\r') ++i;
        return line.substr(start, i - start);
    };
    std::string_view type = word();
    std::string_view blob = word();
    bool type_ok =
        type.starts_with("ssh-") || type.starts_with("ecdsa-sha2-") || type.starts_with("sk-");
    bool blob_ok = blob.size() >= 16 && std::all_of(blob.begin(), blob.end(), [](char c) {
                       return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                              (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
                   });
    if (!type_ok || !blob_ok || type.size() > 64)
        throw ProtocolError("not an SSH public key line ('type base64 [comment]')");
    return std::string(type) + " " + std::string(blob);
}

}  // namespace airstrap::firstboot::proto
