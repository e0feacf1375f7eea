#include "repo-mirror/modules.hpp"

#include <yaml-cpp/yaml.h>

#include <set>

#include "common/error.hpp"
#include "common/text.hpp"

namespace airstrap::mirror {

std::string normalised_nevra(const std::string& nevra) {
    // name-[e:]v-r.a: the epoch, when present, sits right after the second-to-last '-'.
    auto dot = nevra.rfind('.');
    auto rel_dash = nevra.rfind('-', dot);
    if (dot == std::string::npos || rel_dash == std::string::npos || rel_dash == 0) return nevra;
    auto ver_dash = nevra.rfind('-', rel_dash - 1);
    if (ver_dash == std::string::npos) return nevra;
    std::string version = nevra.substr(ver_dash + 1);
    if (version.find(':') == std::string::npos) version = "0:" + version;
    return nevra.substr(0, ver_dash + 1) + version;
}

namespace {

// yaml-cpp 0.7's LoadAll can loop forever on malformed input; modules.yaml marks every
// document with "---" (and often "..."), so split on those lines and load one at a time.
std::vector<std::string> split_documents(const std::string& yaml) {
    std::vector<std::string> docs;
    std::string current;
    for (const auto& line : text::split(yaml, '\n')) {
        if (line == "---" || line == "...") {
            if (current.find_first_not_of(" \n\t") != std::string::npos) docs.push_back(current);
            current.clear();
            continue;
        }
        current += line;
        current += '\n';
    }
    if (current.find_first_not_of(" \n\t") != std::string::npos) docs.push_back(current);
    return docs;
}

}  // namespace

void ModuleIndex::add(const std::string& yaml, const std::string& where) {
    for (const auto& text : split_documents(yaml)) {
        YAML::Node doc;
        try {
            doc = YAML::Load(text);
        } catch (const YAML::Exception&) {
            std::throw_with_nested(InputError(where + ": not valid YAML"));
        }
        if (doc.IsNull() && text::first_content(text) == std::string::npos) continue;
        if (!doc.IsMap() || !doc["document"] || !doc["data"] || !doc["data"].IsMap()) {
            throw InputError(where +
                             ": a document without 'document:' and 'data:' is not modulemd");
        }
        std::string kind = doc["document"].as<std::string>("");
        YAML::Node data = doc["data"];
        if (kind == "modulemd") {
            ModuleStream s;
            s.module = data["name"].as<std::string>("");
            s.stream = data["stream"].as<std::string>("");
            if (data["artifacts"] && data["artifacts"]["rpms"] &&
                data["artifacts"]["rpms"].IsSequence()) {
                for (const auto& a : data["artifacts"]["rpms"]) {
                    s.artifacts.push_back(normalised_nevra(a.as<std::string>("")));
                }
            }
            if (s.module.empty()) throw InputError(where + ": a modulemd document has no name");
            streams.push_back(std::move(s));
        } else if (kind == "modulemd-defaults") {
            std::string module = data["module"].as<std::string>("");
            if (data["stream"]) defaults[module] = data["stream"].as<std::string>("");
        }
        documents.push_back("---\n" + text + "...\n");
    }
}

std::vector<std::string> modular_hidden(const ModuleIndex& index,
                                        const std::vector<std::string>& all_nevras,
                                        const std::map<std::string, std::string>& enabled) {
    std::set<std::string> active_artifacts, inactive_artifacts, active_names;
    for (const auto& s : index.streams) {
        auto on = enabled.find(s.module);
        auto def = index.defaults.find(s.module);
        bool active = on != enabled.end() ? on->second == s.stream
                                          : def != index.defaults.end() && def->second == s.stream;
        for (const auto& a : s.artifacts) {
            if (active) {
                active_artifacts.insert(a);
                auto dash = a.rfind('-', a.rfind('-') - 1);
                active_names.insert(a.substr(0, dash));
            } else {
                inactive_artifacts.insert(a);
            }
        }
    }
    std::vector<std::string> hidden;
    for (const auto& raw : all_nevras) {
        std::string n = normalised_nevra(raw);
        if (active_artifacts.contains(n)) continue;
        if (inactive_artifacts.contains(n)) {
            hidden.push_back(raw);
            continue;
        }
        auto dash = n.rfind('-', n.rfind('-') - 1);
        if (active_names.contains(n.substr(0, dash))) hidden.push_back(raw);
    }
    return hidden;
}

}  // namespace airstrap::mirror
