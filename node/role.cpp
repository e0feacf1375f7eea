#include "node/role.hpp"

namespace airstrap::node {

const char* to_string(Role r) {
    switch (r) {
        case Role::controller:
            return "controller";
        case Role::network:
            return "network";
        case Role::compute:
            return "compute";
    }
    return "?";
}

std::optional<Role> role_from_string(std::string_view s) {
    for (Role r : all_roles) {
        if (s == to_string(r)) return r;
    }
    return std::nullopt;
}

}  // namespace airstrap::node
