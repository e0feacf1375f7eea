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
    const char* environment;          // the minimal install's environment group
    bool has_network_scripts;         // the legacy `network` service can be installed
};

const Dialect& dialect_for(site::Distro distro);

}  // namespace airstrap::kickstart
