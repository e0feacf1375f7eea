// One function per subcommand; main() only parses flags and maps errors to exit codes.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "common/error.hpp"

namespace airstrap::cli {

struct InitOptions {
    std::filesystem::path dir;
    bool secrets_only = false;
    bool force = false;
};
ExitCode run_init(const InitOptions& options);

struct ValidateOptions {
    std::filesystem::path site;
    std::optional<std::filesystem::path> secrets;
    bool json = false;
};
ExitCode run_validate(const ValidateOptions& options);

struct KickstartOptions {
    std::filesystem::path site;
    std::optional<std::filesystem::path> secrets;
    std::filesystem::path output;
};
ExitCode run_kickstart(const KickstartOptions& options);

}  // namespace airstrap::cli
