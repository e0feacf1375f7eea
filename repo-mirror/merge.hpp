// One comps file and one updateinfo file for the output repository, made from those of all
// sources: their top-level elements side by side, the first definition of an id winning
// (a group in both BaseOS and AppStream appears once).
#pragma once

#include <string>
#include <vector>

namespace airstrap::mirror {

// `documents` are (name for messages, XML text) pairs; empty texts are skipped. Returns ""
// when there is nothing to merge. InputError naming the document that is not XML.
std::string merge_comps(const std::vector<std::pair<std::string, std::string>>& documents);
std::string merge_updateinfo(const std::vector<std::pair<std::string, std::string>>& documents);

}  // namespace airstrap::mirror
