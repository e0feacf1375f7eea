// libFuzzer target: any bytes as a distro profile (builder/profile.hpp) must give a profile
// or an InputError naming the file, never crash, hang or trip a sanitizer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "builder/profile.hpp"
#include "common/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > (1 << 16)) return 0;
    std::string text(reinterpret_cast<const char*>(data), size);
    try {
        auto p = airstrap::builder::parse_profile(text, "fuzz.yaml");
        if (p.name.empty() && text.find("name") == std::string::npos) std::abort();
    } catch (const airstrap::InputError& e) {
        if (std::string(e.what()).rfind("fuzz.yaml", 0) != 0) std::abort();  // says which file
    }
    return 0;
}
