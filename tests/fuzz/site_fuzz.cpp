// libFuzzer target: any bytes as a site file must give diagnostics, never a crash, hang or
// sanitizer report; a file that validates must render every role's kickstart.
#include <cstddef>
#include <cstdint>
#include <string>

#include "kickstart/render.hpp"
#include "site/parse.hpp"
#include "site/site_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > airstrap::site::max_site_file_bytes) return 0;
    std::string text(reinterpret_cast<const char*>(data), size);
    auto file = airstrap::site::SiteFile::from_text("fuzz.yaml", text, "/fuzz");
    std::string rendered = file->diag().render();
    if (file->ok()) {
        airstrap::site::Secrets secrets;
        secrets.site_secret.assign(32, 0x11);
        secrets.root_password = "fuzz-root-password";
        for (auto role : airstrap::site::all_roles) {
            (void)airstrap::kickstart::render_kickstart(file->site(), secrets, role);
        }
    }
    return 0;
}
