// The daemon's state files (journal.json, enrolled.json): one JSON document with a format
// number, read whole and checked, written atomically (mode 0600) after clearing what a killed
// save left behind.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace airstrap::firstboot {

// Wall-clock seconds since the epoch (informative: a node's clock may be wrong before chrony).
double unix_now();

// Called with why a file cannot be used; throws (never returns).
using CorruptFile = std::function<void(const std::string& why)>;

// The document, nullopt when the file does not exist. `corrupt` is called when it is larger
// than max_bytes's read allows, not JSON, not an object or of another format.
std::optional<nlohmann::json> load_state_file(const std::filesystem::path& file,
                                              std::size_t max_bytes, int format,
                                              const CorruptFile& corrupt);

// Creates the folder, removes stale temps of earlier killed saves, writes text atomically.
void save_state_file(const std::filesystem::path& file, const std::string& text);

}  // namespace airstrap::firstboot
