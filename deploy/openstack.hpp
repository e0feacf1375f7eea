// The `openstack` client as the controller runs it: admin credentials from keystonerc_admin
// in the environment (never argv), JSON output for everything it reads.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/subprocess.hpp"

namespace airstrap::deploy {

class OpenStackClient {
  public:
    OpenStackClient(CommandRunner& runner, std::map<std::string, std::string> credentials);

    // `openstack ARGS… -f json`, parsed. Error (with the command and its last lines of
    // output) when it fails or does not print JSON.
    nlohmann::json query(const std::vector<std::string>& args);
    // `openstack ARGS…` for a change; `terminal_input` is typed at its prompts (passwords).
    std::string change(const std::vector<std::string>& args,
                       const std::string& terminal_input = "");
    // Names of the rows of a list, from its "Name" column.
    static std::vector<std::string> names(const nlohmann::json& rows);

  private:
    ProcessResult run(const std::vector<std::string>& args, const std::string& terminal_input);
    CommandRunner& runner_;
    std::vector<std::pair<std::string, std::string>> env_;
};

}  // namespace airstrap::deploy
