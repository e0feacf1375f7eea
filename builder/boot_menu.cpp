#include "builder/boot_menu.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>

#include "common/error.hpp"
#include "common/text.hpp"

namespace airstrap::builder {

namespace {

// The first word of a line (lower-cased) and the rest, trimmed.
std::pair<std::string, std::string> first_word(std::string_view line) {
    std::string t = text::trim(line);
    std::size_t sp = t.find_first_of(" \t");
    if (sp == std::string::npos) return {text::to_lower(t), {}};
    return {text::to_lower(t.substr(0, sp)), text::trim(t.substr(sp))};
}

std::vector<std::string> lines_of(std::string_view text) {
    std::vector<std::string> lines = text::split(text, '\n');
    if (!lines.empty() && lines.back().empty()) lines.pop_back();
    return lines;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
    if (from.empty()) return;
    for (std::size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) {
        s.replace(at, from.size(), to);
    }
}

// Kernel arguments without the dropped ones; words compared up to '=' or whole.
std::string without_args(std::string_view args, const std::vector<std::string>& drop) {
    std::vector<std::string> kept;
    for (const auto& w : text::split(args, ' ')) {
        if (w.empty()) continue;
        std::string key = w.substr(0, w.find('='));
        bool dropped = std::any_of(drop.begin(), drop.end(),
                                   [&](const std::string& d) { return d == w || d == key; });
        if (!dropped) kept.push_back(w);
    }
    return text::join(kept, " ");
}

// How the vendor's arguments spell the install volume ("CentOS\x207\x20x86_64"), so that
// inst.ks says it the same way as inst.stage2; the udev form of `label` when they don't.
std::string label_as_written(std::string_view args, const std::string& label) {
    for (const auto& w : text::split(args, ' ')) {
        for (const char* key :
             {"inst.stage2=hd:LABEL=", "stage2=hd:LABEL=", "inst.repo=hd:LABEL="}) {
            std::string_view k(key);
            if (w.starts_with(k)) {
                std::string v = w.substr(k.size());
                return v.substr(0, v.find(':'));
            }
        }
    }
    return udev_escape(label);
}

std::string entry_args(const VendorEntry& vendor, const MenuPlan& plan, const MenuEntry& e,
                       const std::string& label) {
    std::string args = without_args(vendor.args, plan.drop_args);
    std::string own = e.args;
    replace_all(own, "@LABEL@", label);
    if (!own.empty()) args += (args.empty() ? "" : " ") + own;
    return args;
}

// Relabelling: LABEL=<old> → LABEL=<new> in udev spelling.
void relabel(std::string& text, const MenuPlan& plan) {
    if (plan.new_label.empty() || plan.new_label == plan.old_label) return;
    replace_all(text, "LABEL=" + udev_escape(plan.old_label),
                "LABEL=" + udev_escape(plan.new_label));
}

void check_plan(const MenuPlan& plan, const std::string& where) {
    if (plan.entries.empty()) throw Error(where + ": no menu entries to add");
}

// ---- isolinux -------------------------------------------------------------------------------

struct IsolinuxLabel {
    std::string name;
    std::size_t begin = 0, end = 0;  // lines [begin, end)
    bool is_default = false;
};

std::vector<IsolinuxLabel> isolinux_labels(const std::vector<std::string>& lines) {
    std::vector<IsolinuxLabel> labels;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        auto [word, rest] = first_word(lines[i]);
        bool ends_block =
            word == "label" || (word == "menu" && (text::to_lower(rest).starts_with("begin") ||
                                                   text::to_lower(rest).starts_with("end")));
        if (ends_block && !labels.empty() && labels.back().end == 0) labels.back().end = i;
        if (word == "label") labels.push_back({rest, i, 0, false});
        if (word == "menu" && text::to_lower(rest) == "default" && !labels.empty() &&
            labels.back().end == 0)
            labels.back().is_default = true;
    }
    if (!labels.empty() && labels.back().end == 0) labels.back().end = lines.size();
    return labels;
}

VendorEntry isolinux_entry(const std::vector<std::string>& lines, const IsolinuxLabel& l) {
    VendorEntry e;
    e.title = l.name;
    for (std::size_t i = l.begin + 1; i < l.end; ++i) {
        auto [word, rest] = first_word(lines[i]);
        if (word == "kernel" || word == "linux") e.kernel = rest;
        if (word == "append") e.args = rest;
        if (word == "initrd") e.initrd = rest;
        if (word == "menu" && text::to_lower(rest).starts_with("label "))
            e.title = text::trim(rest.substr(6));
    }
    return e;
}

VendorEntry isolinux_default(const std::vector<std::string>& lines, const std::string& where) {
    auto labels = isolinux_labels(lines);
    std::string default_name;
    for (const auto& line : lines) {
        auto [word, rest] = first_word(line);
        if (word == "default" && !text::to_lower(rest).ends_with(".c32")) default_name = rest;
    }
    const IsolinuxLabel* pick = nullptr;
    for (const auto& l : labels) {
        if (l.is_default && !pick) pick = &l;
    }
    for (const auto& l : labels) {
        if (!pick && l.name == default_name) pick = &l;
    }
    for (const auto& l : labels) {
        if (pick) break;
        if (!isolinux_entry(lines, l).kernel.empty()) pick = &l;
    }
    if (!pick) throw InputError(where + ": no 'label' entry with a kernel to start from");
    VendorEntry e = isolinux_entry(lines, *pick);
    if (e.kernel.empty()) {
        throw InputError(where + ": the default entry '" + pick->name + "' names no kernel");
    }
    return e;
}

std::string isolinux_title(std::string_view title) {
    std::string t(title);
    std::replace(t.begin(), t.end(), '\n', ' ');
    return t;
}

// ---- grub -----------------------------------------------------------------------------------

struct GrubBlock {
    std::string keyword;  // menuentry, submenu
    std::string title;
    std::size_t begin = 0, end = 0;  // lines [begin, end], end the closing brace
};

// The first quoted (or bare) word after the keyword.
std::string grub_title(std::string_view rest) {
    std::string r = text::trim(rest);
    if (r.empty()) return r;
    char q = r[0];
    if (q == '\'' || q == '"') {
        std::size_t close = r.find(q, 1);
        return r.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    }
    return r.substr(0, r.find_first_of(" \t{"));
}

// Top-level menuentry and submenu blocks, by brace depth (a line ending in '{' opens, a
// line that is '}' closes: the style every vendor grub.cfg keeps).
std::vector<GrubBlock> grub_blocks(const std::vector<std::string>& lines) {
    std::vector<GrubBlock> blocks;
    int depth = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        std::string t = text::trim(lines[i]);
        auto [word, rest] = first_word(t);
        bool opens = !t.empty() && t.back() == '{';
        bool closes = t == "}" || t.starts_with("} ");
        if (opens) {
            if (depth == 0 && (word == "menuentry" || word == "submenu")) {
                blocks.push_back({word, grub_title(rest), i, 0});
            }
            ++depth;
        } else if (closes) {
            --depth;
            if (depth == 0 && !blocks.empty() && blocks.back().end == 0) blocks.back().end = i;
            if (depth < 0) depth = 0;
        }
    }
    return blocks;
}

VendorEntry grub_entry(const std::vector<std::string>& lines, const GrubBlock& b) {
    VendorEntry e;
    e.title = b.title;
    for (std::size_t i = b.begin + 1; i < b.end; ++i) {
        auto [word, rest] = first_word(lines[i]);
        if (word == "linux" || word == "linuxefi" || word == "linux16") {
            std::size_t sp = rest.find_first_of(" \t");
            e.kernel = word + " " + rest.substr(0, sp);
            e.args = sp == std::string::npos ? "" : text::trim(rest.substr(sp));
        }
        if (word == "initrd" || word == "initrdefi" || word == "initrd16") {
            e.initrd = word + " " + rest;
        }
    }
    return e;
}

VendorEntry grub_default(const std::vector<std::string>& lines, const std::string& where) {
    auto blocks = grub_blocks(lines);
    std::string wanted;
    for (const auto& line : lines) {
        std::string t = text::trim(line);
        if (t.starts_with("set default=")) {
            wanted = t.substr(12);
            if (wanted.size() >= 2 && (wanted[0] == '"' || wanted[0] == '\'')) {
                wanted = wanted.substr(1, wanted.size() - 2);
            }
        }
    }
    const GrubBlock* pick = nullptr;
    if (!wanted.empty() && std::all_of(wanted.begin(), wanted.end(), ::isdigit)) {
        // An index past the entries (however many digits) means no default: the first entry.
        std::size_t n = 0;
        auto [end, ec] = std::from_chars(wanted.data(), wanted.data() + wanted.size(), n);
        if (ec == std::errc() && end == wanted.data() + wanted.size() && n < blocks.size()) {
            pick = &blocks[n];
        }
    } else {
        for (const auto& b : blocks) {
            if (!pick && b.title == wanted) pick = &b;
        }
    }
    if (pick && pick->keyword == "submenu") pick = nullptr;  // then the first entry
    for (const auto& b : blocks) {
        if (!pick && b.keyword == "menuentry") pick = &b;
    }
    if (!pick) throw InputError(where + ": no 'menuentry' to start from");
    VendorEntry e = grub_entry(lines, *pick);
    if (e.kernel.empty()) {
        throw InputError(where + ": the default entry '" + pick->title + "' has no linux line");
    }
    return e;
}

}  // namespace

std::string udev_escape(std::string_view label) {
    static const std::string_view plain = "#+-.:=@_";
    std::string out;
    for (unsigned char c : label) {
        if (std::isalnum(c) || plain.find(static_cast<char>(c)) != std::string_view::npos) {
            out += static_cast<char>(c);
        } else {
            char buf[5];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        }
    }
    return out;
}

std::string grub_quote(std::string_view text) {
    std::string out = "'";
    for (char c : text) {
        if (c == '\'')
            out += "'\\''";
        else
            out += c;
    }
    return out + "'";
}

VendorEntry isolinux_default_entry(std::string_view text, const std::string& where) {
    return isolinux_default(lines_of(text), where);
}

VendorEntry grub_default_entry(std::string_view text, const std::string& where) {
    return grub_default(lines_of(text), where);
}

std::string edit_isolinux_cfg(std::string_view text, const MenuPlan& plan, const std::string& where,
                              VendorEntry* found) {
    check_plan(plan, where);
    std::vector<std::string> lines = lines_of(text);
    VendorEntry vendor = isolinux_default(lines, where);
    if (found) *found = vendor;
    std::string label = label_as_written(vendor.args, plan.old_label);

    auto block = [&](const MenuEntry& e, bool is_default, const std::string& indent) {
        std::vector<std::string> b = {indent + "label " + e.id,
                                      indent + "  menu label " + isolinux_title(e.title)};
        if (is_default) b.push_back(indent + "  menu default");
        b.push_back(indent + "  kernel " + vendor.kernel);
        if (!vendor.initrd.empty()) b.push_back(indent + "  initrd " + vendor.initrd);
        b.push_back(indent + "  append " + entry_args(vendor, plan, e, label));
        return b;
    };

    std::vector<std::string> ours = {
        "# airstrap: the site's entries; the default installs this "
        "machine's node, found by MAC."};
    for (std::size_t i = 0; i < plan.entries.size(); ++i) {
        if (!plan.entries[i].grouped) {
            auto b = block(plan.entries[i], i == 0, "");
            ours.insert(ours.end(), b.begin(), b.end());
        }
    }
    bool any_grouped = std::any_of(plan.entries.begin(), plan.entries.end(),
                                   [](const MenuEntry& e) { return e.grouped; });
    if (any_grouped) {
        ours.push_back("menu begin ^" + isolinux_title(plan.group_title));
        ours.push_back("  menu title " + isolinux_title(plan.group_title));
        for (const auto& e : plan.entries) {
            if (!e.grouped) continue;
            auto b = block(e, false, "  ");
            ours.insert(ours.end(), b.begin(), b.end());
        }
        ours.push_back("  menu separator");
        ours.push_back("  label airstrap-return");
        ours.push_back("    menu label Return to ^main menu");
        ours.push_back("    menu exit");
        ours.push_back("menu end");
    }
    ours.push_back("");

    std::vector<std::string> out;
    bool inserted = false, have_timeout = false;
    const std::string timeout = "timeout " + std::to_string(plan.timeout_seconds * 10);
    for (const auto& line : lines) {
        auto [word, rest] = first_word(line);
        if (word == "menu" && text::to_lower(rest) == "default")
            continue;  // ours is the default now
        if (word == "timeout") {
            out.push_back(timeout);
            have_timeout = true;
            continue;
        }
        if (word == "ontimeout") {
            out.push_back("ontimeout " + plan.entries[0].id);
            continue;
        }
        if (word == "default" && !text::to_lower(rest).ends_with(".c32")) {
            out.push_back("default " + plan.entries[0].id);
            continue;
        }
        if (!inserted &&
            (word == "label" || (word == "menu" && text::to_lower(rest).starts_with("begin")))) {
            if (!have_timeout) {
                out.push_back(timeout);
                have_timeout = true;
            }
            out.insert(out.end(), ours.begin(), ours.end());
            inserted = true;
        }
        out.push_back(line);
    }
    std::string result = joined(out);
    relabel(result, plan);
    return result;
}

std::string edit_grub_cfg(std::string_view text, const MenuPlan& plan, const std::string& where,
                          VendorEntry* found) {
    check_plan(plan, where);
    std::vector<std::string> lines = lines_of(text);
    VendorEntry vendor = grub_default(lines, where);
    if (found) *found = vendor;
    std::string label = label_as_written(vendor.args, plan.old_label);

    auto entry = [&](const MenuEntry& e, const std::string& indent) {
        std::vector<std::string> b = {
            indent + "menuentry " + grub_quote(e.title) +
                " --class fedora --class gnu-linux --class gnu --class os {",
            indent + "\t" + vendor.kernel + " " + entry_args(vendor, plan, e, label)};
        if (!vendor.initrd.empty()) b.push_back(indent + "\t" + vendor.initrd);
        b.push_back(indent + "}");
        return b;
    };
    std::vector<std::string> ours = {
        "# airstrap: the site's entries; the default installs this "
        "machine's node, found by MAC."};
    for (const auto& e : plan.entries) {
        if (e.grouped) continue;
        auto b = entry(e, "");
        ours.insert(ours.end(), b.begin(), b.end());
    }
    if (std::any_of(plan.entries.begin(), plan.entries.end(),
                    [](const MenuEntry& e) { return e.grouped; })) {
        ours.push_back("submenu " + grub_quote(plan.group_title + " -->") + " {");
        for (const auto& e : plan.entries) {
            if (!e.grouped) continue;
            auto b = entry(e, "\t");
            ours.insert(ours.end(), b.begin(), b.end());
        }
        ours.push_back("}");
    }

    std::vector<std::string> out;
    bool inserted = false, have_default = false, have_timeout = false;
    int depth = 0;
    for (const auto& line : lines) {
        std::string t = text::trim(line);
        auto [word, rest] = first_word(t);
        if (depth == 0 && t.starts_with("set default=")) {
            out.push_back("set default=\"0\"");
            have_default = true;
            continue;
        }
        if (depth == 0 && t.starts_with("set timeout=")) {
            out.push_back("set timeout=" + std::to_string(plan.timeout_seconds));
            have_timeout = true;
            continue;
        }
        if (depth == 0 && !inserted && (word == "menuentry" || word == "submenu")) {
            if (!have_default) out.push_back("set default=\"0\"");
            if (!have_timeout) out.push_back("set timeout=" + std::to_string(plan.timeout_seconds));
            have_default = have_timeout = true;
            out.insert(out.end(), ours.begin(), ours.end());
            inserted = true;
        }
        if (!t.empty() && t.back() == '{') ++depth;
        if ((t == "}" || t.starts_with("} ")) && depth > 0) --depth;
        out.push_back(line);
    }
    std::string result = joined(out);
    if (!plan.new_label.empty() && plan.new_label != plan.old_label) {
        relabel(result, plan);
        // search --no-floppy --set=root -l 'OLD' (quoted either way).
        replace_all(result, "-l " + grub_quote(plan.old_label), "-l " + grub_quote(plan.new_label));
        replace_all(result, "-l \"" + plan.old_label + "\"", "-l " + grub_quote(plan.new_label));
    }
    return result;
}

}  // namespace airstrap::builder
