// libFuzzer target: any bytes as /etc/airstrap/site.json, which a node reads at every start.
// The strict reader must accept or refuse with InputError — never crash, hang or trip a
// sanitizer — and whatever it accepts must write back to bytes that read to the same site.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/error.hpp"
#include "node/site_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    airstrap::node::Site site;
    try {
        site = airstrap::node::parse_site_json(text);
    } catch (const airstrap::InputError&) {
        return 0;
    }
    std::string written = airstrap::node::site_json_text(site);
    if (!(airstrap::node::parse_site_json(written) == site)) std::abort();
    // Lookups the checks promise to answer.
    (void)site.address(site.controller());
    if (site.management_broadcast().empty()) std::abort();
    return 0;
}
