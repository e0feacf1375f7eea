#include "repo-mirror/repodata.hpp"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <charconv>
#include <memory>

#include "common/error.hpp"
#include "repo-mirror/archive.hpp"
#include "repo-mirror/tree.hpp"

namespace airstrap::mirror {

const RepoMdRecord* RepoMd::find(std::string_view type) const {
    for (const auto& r : records) {
        if (r.type == type) return &r;
    }
    return nullptr;
}

namespace {

struct XmlDocFree {
    void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};

std::string attr(xmlNode* node, const char* name) {
    xmlChar* v = xmlGetProp(node, reinterpret_cast<const xmlChar*>(name));
    if (!v) return {};
    std::string s(reinterpret_cast<char*>(v));
    xmlFree(v);
    return s;
}

std::string content(xmlNode* node) {
    xmlChar* v = xmlNodeGetContent(node);
    if (!v) return {};
    std::string s(reinterpret_cast<char*>(v));
    xmlFree(v);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t')) s.pop_back();
    std::size_t start = s.find_first_not_of(" \n\t");
    return start == std::string::npos ? std::string() : s.substr(start);
}

bool named(xmlNode* node, const char* name) {
    return node->type == XML_ELEMENT_NODE &&
           xmlStrcmp(node->name, reinterpret_cast<const xmlChar*>(name)) == 0;
}

std::optional<std::uint64_t> number(const std::string& s) {
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    return v;
}

ChecksumType checksum_of(const std::string& type, const std::string& where,
                         const MetadataPolicy& policy) {
    auto t = checksum_type_from_name(type);
    if (!t) throw InputError(where + ": unknown checksum type '" + type + "'");
    if (!is_strong(*t) && !policy.allow_weak_checksums) {
        throw InputError(where + ": checksum type " + type +
                         " is too weak; sha256 or stronger is required (a site may allow weak "
                         "checksums for old repositories)");
    }
    return *t;
}

}  // namespace

RepoMd parse_repomd(std::string_view xml, const std::string& where, const MetadataPolicy& policy) {
    // Repository metadata never needs a DTD; refusing one up front stops entity bombs and
    // external entities before any parser sees them. The options below are a second wall:
    // no entity substitution, no DTD loading, no network.
    if (xml.find("<!DOCTYPE") != std::string_view::npos ||
        xml.find("<!ENTITY") != std::string_view::npos) {
        throw InputError(where + ": a DOCTYPE is not allowed in repository metadata");
    }
    int options = XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOWARNING | XML_PARSE_NOERROR;
    std::unique_ptr<xmlDoc, XmlDocFree> doc(
        xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "repomd.xml", nullptr, options));
    if (!doc) {
        const xmlError* e = xmlGetLastError();
        throw InputError(where + ": not valid XML" +
                         (e && e->message ? std::string(": ") + e->message : std::string()));
    }
    xmlNode* root = xmlDocGetRootElement(doc.get());
    if (!root || !named(root, "repomd"))
        throw InputError(where + ": the root element is not <repomd>");
    RepoMd md;
    for (xmlNode* n = root->children; n; n = n->next) {
        if (named(n, "revision")) md.revision = content(n);
        if (!named(n, "data")) continue;
        RepoMdRecord r;
        r.type = attr(n, "type");
        std::string record_where = where + ": <data type=\"" + r.type + "\">";
        bool has_checksum = false;
        for (xmlNode* c = n->children; c; c = c->next) {
            if (named(c, "location")) {
                if (!attr(c, "base").empty()) {
                    throw InputError(record_where + ": location with xml:base is not supported");
                }
                r.href = attr(c, "href");
            } else if (named(c, "checksum")) {
                r.checksum_type = checksum_of(attr(c, "type"), record_where, policy);
                r.checksum = content(c);
                has_checksum = true;
            } else if (named(c, "open-checksum")) {
                r.open_checksum_type = checksum_of(attr(c, "type"), record_where, policy);
                r.open_checksum = content(c);
            } else if (named(c, "size")) {
                r.size = number(content(c));
            } else if (named(c, "open-size")) {
                r.open_size = number(content(c));
            }
        }
        if (r.type.empty()) throw InputError(where + ": a <data> element has no type");
        if (!has_checksum || r.checksum.empty()) {
            throw InputError(record_where + ": no checksum; every metadata file must have one");
        }
        if (!is_safe_relative_path(r.href)) {
            throw InputError(record_where + ": unsafe location href '" + r.href + "'");
        }
        md.records.push_back(std::move(r));
    }
    if (!md.find("primary")) throw InputError(where + ": lists no primary metadata");
    return md;
}

std::string verify_and_open(const RepoMdRecord& record, std::string_view raw,
                            const std::string& where, const MetadataPolicy& policy) {
    if (record.size && *record.size != raw.size()) {
        throw InputError(where + ": " + std::to_string(raw.size()) + " bytes, repomd.xml says " +
                         std::to_string(*record.size));
    }
    std::string actual = checksum_hex(record.checksum_type, raw);
    if (actual != record.checksum) {
        throw InputError(where + ": checksum mismatch (" +
                         checksum_type_name(record.checksum_type) + " expected " + record.checksum +
                         ", got " + actual + ")");
    }
    std::uint64_t cap = policy.max_open_bytes;
    if (record.open_size && *record.open_size < cap) cap = *record.open_size;

    ArchiveReader a(ArchiveReader::raw | ArchiveReader::empty);
    a.open_memory(raw, where + ": cannot decompress: ");
    std::string out;
    if (a.next(where + ": cannot decompress: ")) {
        char buf[65536];
        while (std::size_t n = a.read(buf, sizeof buf,
                                      where + ": cannot decompress (truncated or corrupt): ")) {
            if (out.size() + n > cap) {
                throw InputError(where + ": decompresses to more than " + std::to_string(cap) +
                                 " bytes" + (record.open_size ? " (repomd.xml's open-size)" : ""));
            }
            out.append(buf, n);
        }
    }
    if (record.open_size && out.size() != *record.open_size) {
        throw InputError(where + ": decompressed to " + std::to_string(out.size()) +
                         " bytes, repomd.xml says " + std::to_string(*record.open_size));
    }
    if (record.open_checksum_type) {
        std::string open_actual = checksum_hex(*record.open_checksum_type, out);
        if (open_actual != record.open_checksum) {
            throw InputError(where + ": open-checksum mismatch after decompression");
        }
    }
    return out;
}

}  // namespace airstrap::mirror
