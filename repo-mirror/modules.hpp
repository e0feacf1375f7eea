// EL8/9 modularity: which packages dnf would hide. A package listed as an artifact of a
// module stream is visible only when that stream is active (the default stream from
// modulemd-defaults, or one the site enables); a non-modular package with the name of an
// active stream's package is hidden too. The documents themselves are carried into the
// output repository unchanged.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace airstrap::mirror {

struct ModuleStream {
    std::string module, stream;
    std::vector<std::string> artifacts;  // NEVRAs, normalised to name-epoch:version-release.arch
};

struct ModuleIndex {
    std::vector<ModuleStream> streams;
    std::map<std::string, std::string> defaults;  // module → default stream
    std::vector<std::string> documents;           // each YAML document's text, as given

    // Adds the documents of one modules.yaml; `where` names it in errors.
    void add(const std::string& yaml, const std::string& where);
    bool empty() const { return documents.empty(); }
};

// "name-[epoch:]version-release.arch" with the epoch made explicit ("0:" when absent).
std::string normalised_nevra(const std::string& nevra);

// NEVRAs (normalised) to hide, given every package's NEVRA in the pool.
std::vector<std::string> modular_hidden(const ModuleIndex& index,
                                        const std::vector<std::string>& all_nevras,
                                        const std::map<std::string, std::string>& enabled = {});

}  // namespace airstrap::mirror
