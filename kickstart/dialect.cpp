#include "kickstart/dialect.hpp"

namespace airstrap::kickstart {

const Dialect& dialect_for(site::Distro distro) {
    static const Dialect el7{site::Distro::el7, "RHEL7", true,
                             "auth --enableshadow --passalgo=sha512"};
    // authselect's "minimal" profile (local users only) exists from EL 8.2 on; sssd is
    // the profile EL 8.0/8.1 also ship and what anaconda picks itself.
    static const Dialect el8{site::Distro::el8, "RHEL8", false, "authselect select sssd --force"};
    static const Dialect el9{site::Distro::el9, "RHEL9", false,
                             "authselect select minimal --force"};
    switch (distro) {
        case site::Distro::el7:
            return el7;
        case site::Distro::el8:
            return el8;
        case site::Distro::el9:
            return el9;
    }
    return el7;
}

}  // namespace airstrap::kickstart
