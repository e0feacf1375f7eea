#include "deploy/openstack.hpp"

#include "common/error.hpp"
#include "common/text.hpp"

namespace airstrap::deploy {

using nlohmann::json;

OpenStackClient::OpenStackClient(CommandRunner& runner,
                                 std::map<std::string, std::string> credentials)
    : runner_(runner), env_(credentials.begin(), credentials.end()) {
    if (!credentials.count("OS_AUTH_URL") || !credentials.count("OS_PASSWORD"))
        throw Error("keystonerc_admin has no OS_AUTH_URL or OS_PASSWORD: packstack did not finish");
}

ProcessResult OpenStackClient::run(const std::vector<std::string>& args,
                                   const std::string& terminal_input) {
    std::vector<std::string> argv{"openstack"};
    argv.insert(argv.end(), args.begin(), args.end());
    RunOptions options;
    options.environment = env_;
    options.input = terminal_input;
    options.input_is_terminal = !terminal_input.empty();
    ProcessResult r = runner_.run(argv, options);
    if (r.exit_code != 0) {
        std::vector<std::string> lines = text::split(text::trim(r.output), '\n');
        std::size_t from = lines.size() > 3 ? lines.size() - 3 : 0;
        std::vector<std::string> tail(lines.begin() + static_cast<std::ptrdiff_t>(from),
                                      lines.end());
        throw Error("openstack " + text::join(args, " ") + " failed (exit " +
                    std::to_string(r.exit_code) + "): " + text::join(tail, " / "));
    }
    return r;
}

json OpenStackClient::query(const std::vector<std::string>& args) {
    std::vector<std::string> full = args;
    full.insert(full.end(), {"-f", "json"});
    ProcessResult r = run(full, "");
    // Deprecation warnings may precede the document on older clients.
    std::size_t start = r.output.find_first_of("[{");
    json doc =
        start == std::string::npos ? json() : json::parse(r.output.substr(start), nullptr, false);
    if (start == std::string::npos || doc.is_discarded())
        throw Error("openstack " + text::join(args, " ") + " printed no JSON");
    return doc;
}

std::string OpenStackClient::change(const std::vector<std::string>& args,
                                    const std::string& terminal_input) {
    return run(args, terminal_input).output;
}

std::vector<std::string> OpenStackClient::names(const json& rows) {
    std::vector<std::string> out;
    if (!rows.is_array()) return out;
    for (const auto& row : rows) {
        if (row.is_object() && row.contains("Name") && row["Name"].is_string())
            out.push_back(row["Name"].get<std::string>());
    }
    return out;
}

}  // namespace airstrap::deploy
