#include "firstboot/node_files.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "common/error.hpp"
#include "common/text.hpp"

namespace airstrap::firstboot {

namespace {

// Lines without their '\n'; a last line without one counts as a line, a final '\n' does not
// start an empty one.
std::vector<std::string> lines_of(std::string_view s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < s.size()) {
        std::size_t nl = s.find('\n', start);
        if (nl == std::string_view::npos) nl = s.size();
        out.emplace_back(s.substr(start, nl - start));
        start = nl + 1;
    }
    return out;
}

bool starts_with_word(std::string_view line, std::string_view word) {
    return line.starts_with(word) &&
           (line.size() == word.size() || line[word.size()] == ' ' || line[word.size()] == '\t');
}

bool is_begin(const std::string& line) {
    return starts_with_word(text::trim(line), managed_begin);
}

bool is_end(const std::string& line) {
    return text::trim(line) == managed_end;
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r';
}

std::vector<std::string> words(std::string_view s) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && is_space(s[i])) ++i;
        std::size_t start = i;
        while (i < s.size() && !is_space(s[i])) ++i;
        if (i > start) out.emplace_back(s.substr(start, i - start));
    }
    return out;
}

// authorized_keys tokens: options may hold quoted spaces (command="a b",from="…").
std::vector<std::string> option_aware_words(std::string_view s) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && is_space(s[i])) ++i;
        std::size_t start = i;
        bool quoted = false;
        while (i < s.size() && (quoted || !is_space(s[i]))) {
            if (s[i] == '\\' && quoted && i + 1 < s.size()) {
                ++i;
            } else if (s[i] == '"') {
                quoted = !quoted;
            }
            ++i;
        }
        if (i > start) out.emplace_back(s.substr(start, i - start));
    }
    return out;
}

bool is_key_type(std::string_view t) {
    bool known_prefix = t.starts_with("ssh-") || t.starts_with("ecdsa-sha2-") ||
                        t.starts_with("sk-ssh-") || t.starts_with("sk-ecdsa-sha2-");
    if (!known_prefix) return false;
    for (char c : t) {
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '@' || c == '.';
        if (!ok) return false;
    }
    return true;
}

bool is_base64(std::string_view b) {
    if (b.size() < 16) return false;
    std::size_t pad = 0;
    for (char c : b) {
        if (c == '=') {
            ++pad;
            continue;
        }
        if (pad > 0) return false;  // '=' only at the end
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '+' || c == '/';
        if (!ok) return false;
    }
    return pad <= 2 && b.size() % 4 == 0;
}

// Only called on text is_base64 accepted.
std::string decode_base64(std::string_view b) {
    auto value = [](char c) -> unsigned {
        if (c >= 'A' && c <= 'Z') return static_cast<unsigned>(c - 'A');
        if (c >= 'a' && c <= 'z') return static_cast<unsigned>(c - 'a' + 26);
        if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0' + 52);
        return c == '+' ? 62u : 63u;
    };
    std::string out;
    unsigned acc = 0;
    int bits = 0;
    for (char c : b) {
        if (c == '=') break;
        acc = (acc << 6) | value(c);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xffu);
        }
    }
    return out;
}

// The key blob (RFC 4253 6.6) is length-prefixed strings, the first naming the type: a key
// cut short or pasted under the wrong type does not pass. Certificates hold other fields
// after the type, so only their type is checked.
bool blob_is_key_of_type(const std::string& blob, std::string_view type) {
    std::size_t pos = 0;
    int strings = 0;
    while (pos < blob.size()) {
        if (blob.size() - pos < 4) return false;
        std::size_t len = 0;
        for (int i = 0; i < 4; ++i) len = (len << 8) | static_cast<unsigned char>(blob[pos++]);
        if (len > blob.size() - pos) return false;
        if (strings == 0) {
            if (std::string_view(blob).substr(pos, len) != type) return false;
            if (type.find("-cert-") != std::string_view::npos) return true;
        }
        pos += len;
        ++strings;
    }
    return strings >= 2;
}

std::string quoted_excerpt(std::string_view s) {
    std::string t = text::trim(s);
    if (t.size() > 60) t = t.substr(0, 57) + "...";
    for (char& c : t) {
        if (c == '\n' || c == '\r') c = ' ';
    }
    return "'" + t + "'";
}

std::string ensure_final_newline(std::string s) {
    if (!s.empty() && s.back() != '\n') s += '\n';
    return s;
}

}  // namespace

std::string replace_managed_block(std::string_view existing, std::string_view begin_line,
                                  std::string_view body) {
    std::string block = std::string(begin_line) + "\n" + ensure_final_newline(std::string(body)) +
                        std::string(managed_end) + "\n";
    std::vector<std::string> lines = lines_of(existing);
    std::string out;
    bool placed = false;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (!is_begin(lines[i])) {
            out += lines[i] + "\n";
            continue;
        }
        std::size_t end = i + 1;
        while (end < lines.size() && !is_end(lines[end])) ++end;
        if (end == lines.size()) {
            throw InputError("line " + std::to_string(i + 1) + " opens a managed block ('" +
                             std::string(managed_begin) + "') that no '" +
                             std::string(managed_end) +
                             "' line closes: remove the block or add the END line by hand");
        }
        if (!placed) out += block;  // a second block (a hand-made copy) is dropped
        placed = true;
        i = end;
    }
    if (!placed) out += block;
    return out;
}

std::string render_hosts(std::string_view existing, const node::Site& site) {
    std::string body;
    for (const auto& n : site.nodes) {
        std::string fqdn = site.fqdn(n);
        body += site.address(n) + " " + fqdn;
        if (fqdn != n.name) body += " " + n.name;
        body += "\n";
    }
    return replace_managed_block(
        existing, std::string(managed_begin) + " (site " + site.site.name + ")", body);
}

std::string render_chrony_conf(const node::Site& site, const node::Node& self) {
    const node::Node& controller = site.controller();
    std::string out = "# managed by airstrap-firstboot (site " + site.site.name +
                      "): rewritten on every run; change site.yaml (time:) instead\n";
    if (self.role == node::Role::controller) {
        for (const auto& s : site.time.upstream) out += "server " + s + " iburst\n";
        out += "# Serve the site's clock even with no upstream reachable.\n";
        out += "local stratum " + std::to_string(site.time.stratum) + "\n";
        out += "allow " + site.management_cidr() + "\n";
    } else {
        out += "server " + site.address(controller) + " iburst\n";
    }
    out +=
        "driftfile /var/lib/chrony/drift\n"
        "makestep 1.0 3\n"
        "rtcsync\n"
        "logdir /var/log/chrony\n";
    return out;
}

std::optional<KeyIdentity> key_identity(std::string_view line) {
    std::string t = text::trim(line);
    if (t.empty() || t[0] == '#') return std::nullopt;
    std::vector<std::string> w = option_aware_words(t);
    // sshd's own rule: a line is "type key …" or "options type key …".
    for (std::size_t first = 0; first < 2 && first + 1 < w.size(); ++first) {
        if (is_key_type(w[first]) && is_base64(w[first + 1])) {
            return KeyIdentity{w[first], w[first + 1]};
        }
    }
    return std::nullopt;
}

std::string normalize_public_key(std::string_view line) {
    std::string t = text::trim(line);
    if (t.find('\n') != std::string::npos) {
        throw InputError("expected one SSH public key line, got several: " + quoted_excerpt(t));
    }
    std::vector<std::string> w = words(t);
    if (w.size() < 2 || !is_key_type(w[0]) || !is_base64(w[1]) ||
        !blob_is_key_of_type(decode_base64(w[1]), w[0])) {
        throw InputError("not an SSH public key (expected 'type base64 [comment]'): " +
                         quoted_excerpt(t));
    }
    return w[0] + " " + w[1];
}

std::string merge_authorized_keys(std::string_view existing, std::string_view public_key) {
    normalize_public_key(public_key);  // throws for anything that is not one key line
    std::string line = text::trim(public_key);
    KeyIdentity wanted = *key_identity(line);
    for (const auto& l : lines_of(existing)) {
        if (key_identity(l) == wanted) return std::string(existing);
    }
    return ensure_final_newline(std::string(existing)) + line + "\n";
}

std::string replace_authorized_key(std::string_view existing, std::string_view old_key,
                                   std::string_view new_key) {
    normalize_public_key(old_key);
    normalize_public_key(new_key);
    KeyIdentity old_id = *key_identity(text::trim(old_key));
    std::string line = text::trim(new_key);
    KeyIdentity new_id = *key_identity(line);
    std::string out;
    bool placed = false;
    for (const auto& l : lines_of(existing)) {
        auto id = key_identity(l);
        if (id == old_id || id == new_id) {
            if (!placed) out += line + "\n";
            placed = true;
            continue;
        }
        out += l + "\n";
    }
    if (!placed) out += line + "\n";
    return out;
}

std::string render_known_hosts(std::string_view existing, const std::vector<KnownHost>& hosts) {
    std::string body;
    for (const auto& h : hosts) {
        if (h.names.empty()) throw InputError("a known host needs at least one name");
        for (const auto& n : h.names) {
            bool bad = n.empty() || n.find_first_of(" \t\r\n\v\f,#*?![]@") != std::string::npos ||
                       std::any_of(n.begin(), n.end(), [](char c) {
                           return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
                       });
            if (bad) throw InputError("not a host name for ssh_known_hosts: '" + n + "'");
        }
        std::string names = text::join(h.names, ",");
        for (const auto& k : h.keys) body += names + " " + normalize_public_key(k) + "\n";
    }
    return replace_managed_block(existing, std::string(managed_begin) + " known hosts", body);
}

std::string render_external_ifcfg(std::string_view existing, const node::Site& site,
                                  const std::string& nic) {
    // What the device is stays: its MAC and MTU, and a VLAN's or bond's settings.
    std::string kept;
    std::string type = "TYPE=Ethernet";
    for (const auto& l : lines_of(existing)) {
        std::string t = text::trim(l);
        for (const char* key : {"HWADDR=", "MTU=", "VLAN=", "PHYSDEV=", "VLAN_ID=",
                                "BONDING_MASTER=", "BONDING_OPTS="}) {
            if (t.starts_with(key)) kept += t + "\n";
        }
        if (t == "TYPE=Vlan" || t == "TYPE=Bond") type = t;
    }
    std::string out =
        "# managed by airstrap-firstboot (site " + site.site.name +
        "): Neutron's external bridge takes this device over, so it has no address of its own\n"
        "DEVICE=" +
        nic + "\nNAME=" + nic + "\n" + type +
        "\n"
        "ONBOOT=yes\n"
        "BOOTPROTO=none\n";
    if (!site.security.network_manager) out += "NM_CONTROLLED=no\n";
    return out + kept;
}

bool ifcfg_is_ovs_port(std::string_view ifcfg) {
    for (const auto& l : lines_of(ifcfg)) {
        std::string t = text::trim(l);
        if (t.starts_with("OVS_BRIDGE=") || t == "TYPE=OVSPort" || t == "TYPE=\"OVSPort\"" ||
            t == "DEVICETYPE=ovs" || t == "DEVICETYPE=\"ovs\"") {
            return true;
        }
    }
    return false;
}

std::string set_selinux_config(std::string_view existing, std::string_view mode) {
    std::string wanted = "SELINUX=" + std::string(mode);
    std::string out;
    bool replaced = false;
    for (const auto& l : lines_of(existing)) {
        std::string t = text::trim(l);
        if (!replaced && t.starts_with("SELINUX=")) {
            out += wanted + "\n";
            replaced = true;
        } else {
            out += l + "\n";
        }
    }
    if (!replaced) out += wanted + "\n";
    return out;
}

bool ChronyTracking::local_reference() const {
    return reference_id == "7F7F0101" || reference_id == "127.127.1.1";
}

bool ChronyTracking::synchronised() const {
    return !leap_status.empty() && leap_status != "Not synchronised";
}

bool ChronyTracking::synchronised_to_source() const {
    bool no_reference =
        reference_id.empty() || reference_id == "00000000" || reference_id == "0.0.0.0";
    return synchronised() && !no_reference && !local_reference();
}

std::optional<ChronyTracking> parse_chrony_tracking(std::string_view output) {
    ChronyTracking t;
    bool seen = false;
    for (const auto& line : lines_of(output)) {
        std::size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string key = text::trim(std::string_view(line).substr(0, colon));
        std::string value = text::trim(std::string_view(line).substr(colon + 1));
        if (key == "Reference ID") {
            seen = true;
            std::vector<std::string> w = words(value);
            if (!w.empty()) t.reference_id = w[0];
            std::size_t open = value.find('(');
            std::size_t close = value.rfind(')');
            if (open != std::string::npos && close != std::string::npos && close > open) {
                t.reference_name = value.substr(open + 1, close - open - 1);
            }
        } else if (key == "Stratum") {
            if (auto n = text::parse_int(value); n && *n >= 0 && *n <= 16) {
                t.stratum = static_cast<int>(*n);
            }
        } else if (key == "System time") {
            // "0.000012345 seconds fast of NTP time": fast = the local clock is ahead.
            std::vector<std::string> w = words(value);
            double v = 0;
            if (w.size() >= 3 && w[1] == "seconds") {
                const char* b = w[0].data();
                auto [end, ec] = std::from_chars(b, b + w[0].size(), v);
                if (ec == std::errc() && end == b + w[0].size()) {
                    if (w[2] == "fast") t.offset = v;
                    if (w[2] == "slow") t.offset = -v;
                }
            }
        } else if (key == "Leap status") {
            seen = true;
            t.leap_status = value;
        }
    }
    if (!seen) return std::nullopt;
    return t;
}

}  // namespace airstrap::firstboot
