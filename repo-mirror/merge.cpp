#include "repo-mirror/merge.hpp"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <memory>
#include <set>

#include "common/error.hpp"

namespace airstrap::mirror {

namespace {

struct DocFree {
    void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using Doc = std::unique_ptr<xmlDoc, DocFree>;

// The text of the first child element named `name`, or of the attribute when there is none
// (updateinfo writes <id>, comps writes <id> too; both are children).
std::string child_text(xmlNode* node, const char* name) {
    for (xmlNode* c = node->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE &&
            xmlStrcmp(c->name, reinterpret_cast<const xmlChar*>(name)) == 0) {
            xmlChar* v = xmlNodeGetContent(c);
            std::string s = v ? reinterpret_cast<char*>(v) : "";
            xmlFree(v);
            return s;
        }
    }
    return {};
}

std::string merge(const std::vector<std::pair<std::string, std::string>>& documents,
                  const char* root_name) {
    Doc out;
    xmlNode* out_root = nullptr;
    std::set<std::string> seen;
    for (const auto& [where, text] : documents) {
        if (text.empty()) continue;
        // No entity substitution, no DTD loading, no network (comps files name a DTD).
        Doc doc(xmlReadMemory(text.data(), static_cast<int>(text.size()), nullptr, nullptr,
                              XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR));
        xmlNode* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
        if (!root || xmlStrcmp(root->name, reinterpret_cast<const xmlChar*>(root_name)) != 0) {
            throw InputError(where + ": not a <" + root_name + "> document");
        }
        if (!out) {
            out.reset(xmlNewDoc(reinterpret_cast<const xmlChar*>("1.0")));
            out_root = xmlNewDocNode(out.get(), nullptr, root->name, nullptr);
            xmlDocSetRootElement(out.get(), out_root);
        }
        for (xmlNode* c = root->children; c; c = c->next) {
            if (c->type != XML_ELEMENT_NODE) continue;
            std::string key =
                std::string(reinterpret_cast<const char*>(c->name)) + "\n" + child_text(c, "id");
            if (!seen.insert(key).second) continue;
            xmlAddChild(out_root, xmlDocCopyNode(c, out.get(), 1));
        }
    }
    if (!out) return {};
    xmlChar* buf = nullptr;
    int size = 0;
    xmlDocDumpFormatMemoryEnc(out.get(), &buf, &size, "UTF-8", 1);
    std::string result(reinterpret_cast<char*>(buf), static_cast<std::size_t>(size));
    xmlFree(buf);
    return result;
}

}  // namespace

std::string merge_comps(const std::vector<std::pair<std::string, std::string>>& documents) {
    return merge(documents, "comps");
}

std::string merge_updateinfo(const std::vector<std::pair<std::string, std::string>>& documents) {
    return merge(documents, "updates");
}

}  // namespace airstrap::mirror
