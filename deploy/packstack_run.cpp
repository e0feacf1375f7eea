#include "deploy/packstack_run.hpp"

#include "common/text.hpp"

namespace airstrap::deploy {

namespace {

std::string strip_terminal_codes(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\x1b' && i + 1 < s.size() && s[i + 1] == '[') {
            i += 2;
            while (i < s.size() && !(s[i] >= '@' && s[i] <= '~')) ++i;
            continue;
        }
        if (s[i] == '\r') continue;
        out += s[i];
    }
    return out;
}

bool take_after(const std::string& line, std::string_view prefix, std::string& out) {
    std::size_t at = line.find(prefix);
    if (at == std::string::npos) return false;
    out = text::trim(line.substr(at + prefix.size()));
    return true;
}

}  // namespace

PackstackReport read_packstack_output(std::string_view output) {
    PackstackReport r;
    bool want_error = false;
    for (const std::string& raw : text::split(strip_terminal_codes(output), '\n')) {
        std::string line = text::trim(raw);
        std::string value;
        if (line.find("Installation completed successfully") != std::string::npos) {
            r.completed = true;
        } else if (take_after(line, "The installation log file is available at:", value)) {
            r.setup_log = value;
        } else if (take_after(line, "Please check log file", value)) {
            std::size_t end = value.find(' ');
            if (r.setup_log.empty()) r.setup_log = value.substr(0, end);
        } else if (take_after(line, "Error appeared during Puppet run:", value)) {
            r.failed_manifest = value;
            want_error = true;
        } else if (take_after(line, "You will find full trace in log", value)) {
            r.trace_log = value;
            want_error = false;
        } else if (want_error && line.starts_with("Error:") && r.error.empty()) {
            r.error = line;
        } else if (line.starts_with("ERROR :") && r.failed_manifest.empty() && r.error.empty()) {
            r.error = text::trim(line.substr(7));
        }
    }
    return r;
}

std::string describe_packstack_failure(const PackstackReport& report,
                                       const std::map<std::string, std::string>& hosts,
                                       const std::string& own_log, int exit_code) {
    std::string out = "packstack failed (exit " + std::to_string(exit_code) + ")";
    if (!report.failed_manifest.empty()) {
        out += " applying " + report.failed_manifest;
        std::size_t us = report.failed_manifest.find('_');
        auto host = hosts.find(report.failed_manifest.substr(0, us));
        if (host != hosts.end()) out += " on " + host->second;
    }
    if (!report.error.empty()) {
        std::string e = report.error;
        if (e.size() > 300) e = e.substr(0, 300) + "…";
        out += ": " + e;
    }
    if (!report.trace_log.empty()) out += "; full trace in " + report.trace_log;
    if (!report.setup_log.empty()) out += "; packstack's log " + report.setup_log;
    out += "; its output in " + own_log;
    return out;
}

std::map<std::string, std::string> parse_keystonerc(std::string_view text) {
    std::map<std::string, std::string> env;
    for (const std::string& raw : text::split(text, '\n')) {
        std::string line = text::trim(raw);
        if (!line.starts_with("export ")) continue;
        line = text::trim(line.substr(7));
        std::size_t eq = line.find('=');
        if (eq == std::string::npos) continue;
        std::string key = line.substr(0, eq);
        if (!key.starts_with("OS_")) continue;
        std::string value = line.substr(eq + 1);
        if (value.size() >= 2 && (value.front() == '\'' || value.front() == '"') &&
            value.back() == value.front()) {
            value = value.substr(1, value.size() - 2);
        }
        env[key] = value;
    }
    return env;
}

}  // namespace airstrap::deploy
