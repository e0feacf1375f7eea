#include "site/parse_hardware.hpp"

#include <cctype>

#include "common/text.hpp"

namespace airstrap::site {

namespace {

bool is_disk_path(const std::string& s) {
    return s.starts_with("/dev/disk/by-path/") || s.starts_with("/dev/disk/by-id/")
               ? s.find_first_not_of(
                     "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
                     "QRSTUVWXYZ0123456789/._:-") == std::string::npos &&
                     s.find("..") == std::string::npos && s.size() < 256
               : false;
}

// "480G", "1.92T", "1920G" → decimal gigabytes, as vendors label disks.
std::optional<std::uint64_t> parse_size_gb(const std::string& s) {
    if (s.size() < 2) return std::nullopt;
    char unit = s.back();
    std::string number = s.substr(0, s.size() - 1);
    auto dot = number.find('.');
    std::string whole = number.substr(0, dot);
    std::string frac = dot == std::string::npos ? "" : number.substr(dot + 1);
    if (whole.empty() || whole.size() > 6 || frac.size() > 3 ||
        (dot != std::string::npos && frac.empty()))
        return std::nullopt;
    for (char c : whole + frac) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    }
    std::uint64_t scale = unit == 'G' ? 1 : unit == 'T' ? 1000 : 0;
    if (!scale) return std::nullopt;
    // In thousandths, then to whole GB.
    std::uint64_t milli = std::stoull(whole) * 1000;
    std::string f = frac + std::string(3 - frac.size(), '0');
    milli += std::stoull(f);
    std::uint64_t gb = milli * scale / 1000;
    if (gb == 0 || gb > 1000000) return std::nullopt;
    return gb;
}

bool is_model_glob(const std::string& s) {
    // What /sys/block/X/device/model holds (letters, digits, spaces, - _ . /), plus * and ?.
    if (s.empty() || s.size() > 64) return false;
    for (char c : s) {
        if (!std::isalnum(static_cast<unsigned char>(c)) &&
            std::string_view(" -_./*?").find(c) == std::string_view::npos)
            return false;
    }
    return true;
}

}  // namespace

std::optional<DiskSelector> parse_disk_selector(KeyReader& k, const YAML::Node& node,
                                                const std::string& what) {
    DiskSelector d;
    d.where = location_of(node);
    if (node.IsMap()) {
        YamlMap m(k.yaml(), node, what, {"size", "model"});
        if (!m.valid()) return std::nullopt;
        bool ok = true;
        if (auto size = k.read(m, {"size"}, k.text())) {
            if (auto gb = parse_size_gb(*size)) {
                d.size_gb = *gb;
            } else {
                k.diag().error(location_of(m.get("size")),
                               "disk size '" + *size +
                                   "' should be the vendor's size in G or T, such as 480G or "
                                   "1.92T (matched within 5%)");
                ok = false;
            }
        }
        if (auto model = k.read(m, {"model"}, k.text())) {
            if (is_model_glob(*model)) {
                d.model = *model;
            } else {
                k.diag().error(location_of(m.get("model")),
                               "disk model '" + *model +
                                   "' should be the model the kernel shows (lsblk -o MODEL): "
                                   "letters, digits, spaces, - _ . /, with * and ? as wildcards");
                ok = false;
            }
        }
        if (ok && !d.size_gb && d.model.empty()) {
            k.diag().error(d.where, "'" + what +
                                        "' matches any disk; give a size, a model or both, or "
                                        "name the disk (sdb, /dev/disk/by-path/…)");
            return std::nullopt;
        }
        return ok ? std::optional(d) : std::nullopt;
    }
    auto s = k.yaml().string(node, KeyReader::quoted(what));
    if (!s) return std::nullopt;
    std::string name = *s;
    if (name.starts_with("/dev/") && !name.starts_with("/dev/disk/")) name = name.substr(5);
    if (!is_valid_interface_name(name) && !is_disk_path(name)) {
        k.diag().error(d.where, "disk '" + *s +
                                    "' should be a kernel name such as sda or nvme0n1, a "
                                    "/dev/disk/by-path/… or /dev/disk/by-id/… path, or "
                                    "{size: 480G, model: …}");
        return std::nullopt;
    }
    d.device = name;
    return d;
}

void parse_disks(KeyReader& k, const YAML::Node& node, const std::string& what, Disks& disks) {
    YamlMap m(k.yaml(), node, what, {"system", "layout", "lvm", "data"});
    if (!m.valid()) return;
    disks.where = m.where();
    if (auto sys = m.require("system"); sys.IsDefined()) {
        disks.system.clear();
        if (sys.IsSequence()) {
            std::size_t i = 0;
            for (const auto& item : sys) {
                if (auto d = parse_disk_selector(
                        k, item, m.path("system") + "[" + std::to_string(i++) + "]"))
                    disks.system.push_back(std::move(*d));
            }
            if (i == 0)
                k.diag().error(location_of(sys), "'" + m.path("system") + "' lists no disk");
        } else if (auto d = parse_disk_selector(k, sys, m.path("system"))) {
            disks.system.push_back(std::move(*d));
        }
    }
    k.set(
        m, {"layout", Need::optional, &disks.layout_at}, disks.layout,
        k.one_of<SystemLayout>({{"single", SystemLayout::single}, {"raid1", SystemLayout::raid1}}));
    k.set(m, {"lvm"}, disks.lvm, k.flag());
    auto data = m.get("data");
    if (!data.IsDefined() || data.IsNull() ||
        !k.yaml().is_sequence(data, "'" + m.path("data") + "'"))
        return;
    std::size_t i = 0;
    for (const auto& item : data) {
        std::string at = m.path("data") + "[" + std::to_string(i++) + "]";
        YamlMap dm(k.yaml(), item, at, {"use", "disk"});
        if (!dm.valid()) continue;
        DataVolume v;
        v.where = dm.where();
        bool use = k.set(dm, {"use", Need::required, &v.use_at}, v.use,
                         k.one_of<DiskUse>({{"cinder-volumes", DiskUse::cinder_volumes},
                                            {"nova-instances", DiskUse::nova_instances}}));
        auto disk = dm.require("disk");
        if (!disk.IsDefined()) continue;
        auto sel = parse_disk_selector(k, disk, dm.path("disk"));
        if (use && sel) {
            v.disk = std::move(*sel);
            disks.data.push_back(std::move(v));
        }
    }
}

void parse_bonds(KeyReader& k, const YAML::Node& node, const std::string& what,
                 std::vector<Bond>& bonds) {
    if (node.IsNull() || !k.yaml().is_sequence(node, "'" + what + "'")) return;
    std::size_t index = 0;
    for (const auto& item : node) {
        std::string at = what + "[" + std::to_string(index++) + "]";
        YamlMap m(k.yaml(), item, at,
                  {"name", "members", "mode", "miimon", "lacp_rate", "xmit_hash_policy", "mtu"});
        if (!m.valid()) continue;
        Bond b;
        b.where = m.where();
        k.set(m, {"name", Need::required, &b.name_at}, b.name, k.text(),
              must(is_valid_interface_name, [](const std::string& s) {
                  return "'" + s +
                         "' is not a valid bond name (1-15 letters, digits, '.', '-', '_', e.g. "
                         "bond0)";
              }));
        k.set(m, {"mode", Need::optional, &b.mode_at}, b.mode,
              k.one_of<BondMode>({{"balance-rr", BondMode::balance_rr},
                                  {"active-backup", BondMode::active_backup},
                                  {"balance-xor", BondMode::balance_xor},
                                  {"broadcast", BondMode::broadcast},
                                  {"802.3ad", BondMode::lacp},
                                  {"balance-tlb", BondMode::balance_tlb},
                                  {"balance-alb", BondMode::balance_alb}}));
        k.set(m, {"miimon"}, b.miimon, k.number(0, 10000, " (milliseconds)"));
        k.set(m, {"lacp_rate", Need::optional, &b.lacp_rate_at}, b.lacp_rate,
              k.one_of<const char*>({{"slow", "slow"}, {"fast", "fast"}}));
        k.set(m, {"xmit_hash_policy", Need::optional, &b.xmit_hash_policy_at}, b.xmit_hash_policy,
              k.one_of<const char*>({{"layer2", "layer2"},
                                     {"layer2+3", "layer2+3"},
                                     {"layer3+4", "layer3+4"},
                                     {"encap2+3", "encap2+3"},
                                     {"encap3+4", "encap3+4"}}));
        k.set(m, {"mtu", Need::optional, &b.mtu_at}, b.mtu, k.number(1280, 9216));
        auto members = m.require("members");
        if (members.IsDefined()) {
            b.members_at = location_of(members);
            if (k.yaml().is_sequence(members, "'" + m.path("members") + "'")) {
                std::size_t i = 0;
                for (const auto& mem : members) {
                    std::string mat = m.path("members") + "[" + std::to_string(i++) + "]";
                    BondMember bm;
                    bm.where = location_of(mem);
                    if (mem.IsMap()) {
                        YamlMap mm(k.yaml(), mem, mat, {"name", "mac"});
                        if (!mm.valid()) continue;
                        k.set(mm, {"name"}, bm.name, k.text(),
                              must(is_valid_interface_name, [](const std::string& s) {
                                  return "'" + s + "' is not a valid NIC name (e.g. ens1f0)";
                              }));
                        k.set(mm, {"mac"}, bm.mac, k.mac());
                        if (bm.name.empty() && bm.mac.empty()) {
                            k.diag().error(bm.where, "'" + mat + "' needs a name, a mac or both");
                            continue;
                        }
                    } else {
                        auto s = k.yaml().string(mem, KeyReader::quoted(mat));
                        if (!s) continue;
                        // Six pairs of hex digits: a MAC; anything else: a NIC's name.
                        if (s->size() == 17 && ((*s)[2] == ':' || (*s)[2] == '-')) {
                            std::string error;
                            auto mac = parse_mac(*s, error);
                            if (!mac) {
                                k.diag().error(bm.where, error);
                                continue;
                            }
                            bm.mac = *mac;
                        } else if (is_valid_interface_name(*s)) {
                            bm.name = *s;
                        } else {
                            k.diag().error(bm.where,
                                           "'" + *s +
                                               "' is neither a MAC address (00:0c:29:2c:6f:6f) "
                                               "nor a NIC name (ens1f0)");
                            continue;
                        }
                    }
                    b.members.push_back(std::move(bm));
                }
            }
        }
        bonds.push_back(std::move(b));
    }
}

}  // namespace airstrap::site
