// What differs between the kickstart dialects of EL7, EL8 and EL9, as data.
#pragma once

#include <string>
#include <vector>

#include "site/model.hpp"

namespace airstrap::kickstart {

struct Dialect {
    site::Distro distro;
    const char* pykickstart_version;  // ksvalidator -v …
    bool install_command;             // `install` exists only up to EL7
    const char* auth_line;            // authconfig (EL7) or authselect (EL8+)
    // The minimal environment group and the network-scripts question are about packages:
    // site/packages.hpp.
};

const Dialect& dialect_for(site::Distro distro);

}  // namespace airstrap::kickstart
