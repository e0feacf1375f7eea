// The text of the system files the setup steps manage, as pure functions: the current file's
// text (where we merge into it) and the site in, the new text out. No I/O, so the tests check
// every byte, and running a step twice gives the same bytes twice.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "firstboot/steps.hpp"
#include "node/identity.hpp"

namespace airstrap::firstboot {

// Managed blocks: "# BEGIN airstrap…" up to "# END airstrap". Lines outside the block are the
// operator's and are kept as they are; an existing block is replaced where it stands, else
// the block is appended. Throws InputError when a BEGIN has no END (a hand-edited file: we
// would not know which lines are ours).
inline constexpr std::string_view managed_begin = "# BEGIN airstrap";
inline constexpr std::string_view managed_end = "# END airstrap";
std::string replace_managed_block(std::string_view existing, std::string_view begin_line,
                                  std::string_view body);

// /etc/hosts: the existing file plus a block "# BEGIN airstrap (site NAME)" listing every node
// as "ADDRESS FQDN SHORT".
std::string render_hosts(std::string_view existing, const node::Site& site);

// The whole of /etc/chrony.conf for `self`: the controller serves the management network
// (its upstreams if any, else its local clock at site.stratum); the others follow it.
std::string render_chrony_conf(const node::Site& site, const node::Node& self);

// "type base64 [comment]" → "type base64". Throws InputError for any other shape (options,
// a missing or non-base64 key, more than one line).
std::string normalize_public_key(std::string_view line);

// The (type, base64) an authorized_keys or public key line carries, after any options;
// nullopt for comments, blank lines and anything that is not a key.
struct KeyIdentity {
    std::string type;
    std::string base64;
    bool operator==(const KeyIdentity&) const = default;
};
std::optional<KeyIdentity> key_identity(std::string_view line);

// authorized_keys with `public_key` ("type base64 [comment]", InputError otherwise) appended
// unless a line already carries the same type and base64; every other line kept.
std::string merge_authorized_keys(std::string_view existing, std::string_view public_key);

// authorized_keys with every line carrying `old_key`'s type and base64 removed and
// `new_key` ("type base64 [comment]") in the place of the first of them (appended when none
// was there, kept once when it already was); every other line kept. InputError for a key
// that is not one.
std::string replace_authorized_key(std::string_view existing, std::string_view old_key,
                                   std::string_view new_key);

// ssh_known_hosts: the existing file plus a "# BEGIN airstrap known hosts" block with one
// "name1,name2,addr type base64" line per host key. InputError for a malformed key or a name
// with whitespace, a comma, '#' or a pattern character (*?![]@): a name must match itself.
std::string render_known_hosts(std::string_view existing, const std::vector<KnownHost>& hosts);

// /etc/sysconfig/network-scripts/ifcfg-NIC for the network node's external NIC: up at boot,
// no address (Packstack's CONFIG_NEUTRON_OVS_BRIDGE_IFACES moves it onto br-ex). HWADDR and
// MTU of the file the installer wrote (`existing`, may be empty) are kept.
std::string render_external_ifcfg(std::string_view existing, const node::Site& site,
                                  const std::string& nic);
// True when Packstack has already made the ifcfg file an OVS port: we must not undo that.
bool ifcfg_is_ovs_port(std::string_view ifcfg);

// /etc/selinux/config with SELINUX=mode (the first SELINUX= line replaced, or one appended);
// SELINUXTYPE and every other line kept.
std::string set_selinux_config(std::string_view existing, std::string_view mode);

// `chronyc -n tracking`, as far as it could be read; unknown lines are ignored.
struct ChronyTracking {
    std::string reference_id;    // "C0A86F0A"; "00000000" unsynchronised; "7F7F0101" local clock
    std::string reference_name;  // in parentheses after the id: with -n, the source's address
    std::optional<int> stratum;
    std::optional<double> offset;  // seconds; + when the local clock is ahead ("fast")
    std::string leap_status;       // "Normal", "Not synchronised", "Insert second", …

    bool local_reference() const;         // serving its own clock (chrony's `local` directive)
    bool synchronised() const;            // leap status other than "Not synchronised"
    bool synchronised_to_source() const;  // synchronised, to a real source (not 0, not local)
};
// nullopt when the output has neither a Reference ID nor a Leap status line ("506 Cannot
// talk to daemon" while chronyd starts).
std::optional<ChronyTracking> parse_chrony_tracking(std::string_view output);

}  // namespace airstrap::firstboot
