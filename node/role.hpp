// A node's role in the site: the one definition the build side (site/) and the installed
// node (firstboot/) share.
#pragma once

#include <optional>
#include <string_view>

namespace airstrap::node {

enum class Role { controller, network, compute };
inline constexpr Role all_roles[] = {Role::controller, Role::network, Role::compute};

const char* to_string(Role r);
// "controller", "network" or "compute"; nothing for anything else.
std::optional<Role> role_from_string(std::string_view s);

}  // namespace airstrap::node
