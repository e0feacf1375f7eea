#include "deploy/answer_file.hpp"

#include "common/error.hpp"
#include "common/text.hpp"

namespace airstrap::deploy {

namespace {

bool valid_key(std::string_view key) {
    if (key.empty()) return false;
    for (char c : key) {
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    return true;
}

}  // namespace

AnswerFile AnswerFile::parse(std::string_view text, const std::string& name) {
    AnswerFile f;
    std::vector<std::string> raw_lines = text::split(text, '\n');
    if (!raw_lines.empty() && raw_lines.back().empty()) raw_lines.pop_back();  // final newline
    std::size_t number = 0;
    for (std::string& line : raw_lines) {
        ++number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        std::string t = text::trim(line);
        Line l;
        l.text = line;
        if (!t.empty() && t[0] != '#' && t[0] != ';' && !(t.front() == '[' && t.back() == ']')) {
            std::size_t eq = line.find('=');
            std::string key = eq == std::string::npos ? "" : text::trim(line.substr(0, eq));
            if (!valid_key(key)) {
                throw InputError(name + ":" + std::to_string(number) +
                                 ": expected KEY=VALUE, a comment or [general], found '" +
                                 (t.size() > 60 ? t.substr(0, 60) + "…" : t) + "'");
            }
            if (f.index_.count(key)) {
                throw InputError(name + ":" + std::to_string(number) + ": " + key +
                                 " is already set on line " + std::to_string(f.index_.at(key) + 1));
            }
            l.key = key;
            l.value = text::trim(line.substr(eq + 1));
            f.index_[key] = f.lines_.size();
        }
        f.lines_.push_back(std::move(l));
    }
    return f;
}

const std::string& AnswerFile::get(std::string_view key) const {
    auto it = index_.find(std::string(key));
    if (it == index_.end()) throw Error("the answer file has no " + std::string(key));
    return lines_[it->second].value;
}

bool AnswerFile::set(std::string_view key, const std::string& value) {
    auto it = index_.find(std::string(key));
    if (it == index_.end()) throw Error("the answer file has no " + std::string(key));
    Line& l = lines_[it->second];
    if (l.value == value) return false;
    l.value = value;
    l.text = l.key + "=" + value;
    return true;
}

std::vector<std::string> AnswerFile::keys() const {
    std::vector<std::string> out;
    for (const auto& l : lines_) {
        if (!l.key.empty()) out.push_back(l.key);
    }
    return out;
}

std::string AnswerFile::render() const {
    std::string out;
    for (const auto& l : lines_) out += l.text + "\n";
    return out;
}

std::vector<std::string> apply_settings(AnswerFile& file,
                                        const std::vector<AnswerSetting>& settings) {
    std::vector<std::string> missing;
    for (const auto& s : settings) {
        if (!file.has(s.key)) missing.push_back(s.key + " (from " + s.from + ")");
    }
    if (!missing.empty()) {
        throw Error("this packstack's answer file has no " + text::join(missing, ", ") +
                    ": is openstack.release in site.yaml the release the site repository "
                    "carries?");
    }
    std::vector<std::string> changed;
    for (const auto& s : settings) {
        if (file.set(s.key, s.value)) changed.push_back(s.key);
    }
    return changed;
}

}  // namespace airstrap::deploy
