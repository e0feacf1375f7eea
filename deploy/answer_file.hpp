// Packstack's answer file: `[general]`, comments and KEY=VALUE lines, as
// `packstack --gen-answer-file` writes it. Edited by key, never by line number: every line
// and comment of the generated file is kept, only values change.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "node/deploy_config.hpp"

namespace airstrap::deploy {

// The settings travel to the controller in deploy.sealed, part of the node contract.
using node::AnswerSetting;

class AnswerFile {
  public:
    // Throws InputError("NAME:LINE: …") for a line that is none of the above or a key given
    // twice.
    static AnswerFile parse(std::string_view text, const std::string& name);

    bool has(std::string_view key) const { return index_.count(std::string(key)) != 0; }
    const std::string& get(std::string_view key) const;  // Error when absent
    // Replaces the value in place; returns whether it changed. Error when the key is absent.
    bool set(std::string_view key, const std::string& value);
    std::vector<std::string> keys() const;  // in file order
    std::string render() const;

  private:
    struct Line {
        std::string text;  // verbatim for comments, blanks and the section header
        std::string key;   // empty unless KEY=VALUE
        std::string value;
    };
    std::vector<Line> lines_;
    std::map<std::string, std::size_t> index_;
};

// Applies `settings` by key. Every key must already be in the file (it came from this
// release's packstack): otherwise Error naming the keys, since a site written for another
// release would be silently ignored by packstack. Returns the keys whose value changed.
std::vector<std::string> apply_settings(AnswerFile& file,
                                        const std::vector<AnswerSetting>& settings);

}  // namespace airstrap::deploy
