// libFuzzer target: any bytes as a vendor isolinux.cfg or grub.cfg (first byte picks which)
// must be edited or refused with InputError, never crash, hang or trip a sanitizer; an
// edited menu keeps every line of the vendor's but the default and timeout lines.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "builder/boot_menu.hpp"
#include "common/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1 || size > (1 << 16)) return 0;
    std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    airstrap::builder::MenuPlan plan;
    plan.old_label = "CentOS 7 x86_64";
    plan.new_label = (data[0] & 2) ? "LAB3" : "";
    plan.group_title = "Install a particular node of lab3";
    plan.entries = {
        {"airstrap-site", "Install lab3", "inst.ks=hd:LABEL=@LABEL@:/ks/site.ks", false},
        {"airstrap-node-c1", "c1", "airstrap.node=c1", true}};
    try {
        std::string out = (data[0] & 1)
                              ? airstrap::builder::edit_grub_cfg(text, plan, "fuzz.cfg")
                              : airstrap::builder::edit_isolinux_cfg(text, plan, "fuzz.cfg");
        if (out.find("airstrap-site") == std::string::npos &&
            out.find("Install lab3") == std::string::npos) {
            std::abort();  // edited without our entry
        }
    } catch (const airstrap::InputError&) {
    }
    return 0;
}
