#include "firstboot/state_file.hpp"

#include <chrono>

#include "common/error.hpp"
#include "common/file_io.hpp"

namespace airstrap::firstboot {

using nlohmann::json;

double unix_now() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

std::optional<json> load_state_file(const std::filesystem::path& file, std::size_t max_bytes,
                                    int format, const CorruptFile& corrupt) {
    std::error_code ec;
    if (std::filesystem::symlink_status(file, ec).type() == std::filesystem::file_type::not_found)
        return std::nullopt;
    std::string text = read_file(file, max_bytes);
    json doc;
    try {
        doc = json::parse(text);
    } catch (const json::exception& e) {
        // nlohmann's messages start with "[json.exception.parse_error.101] ": not for an operator.
        std::string what = e.what();
        auto end = what.find("] ");
        corrupt(end == std::string::npos ? what : what.substr(end + 2));
    }
    if (!doc.is_object()) corrupt("expected a JSON object");
    auto f = doc.find("format");
    if (f == doc.end() || !f->is_number_integer()) corrupt("no format number");
    if (f->get<long long>() != format)
        corrupt("format " + f->dump() + "; this airstrap reads format " + std::to_string(format));
    return doc;
}

void save_state_file(const std::filesystem::path& file, const std::string& text) {
    std::filesystem::path dir = file.parent_path();
    if (!dir.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        if (ec) throw SystemError("cannot create " + dir.string(), ec.value());
        // What a kill -9 in the middle of an earlier save left behind.
        remove_stale_outputs(dir, file.filename().string());
    }
    write_file_atomic(file, text + "\n", 0600);
}

}  // namespace airstrap::firstboot
