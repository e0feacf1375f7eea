#include "common/error.hpp"

#include <cstring>

namespace airstrap {

SystemError::SystemError(const std::string& what, int errnum)
    : Error(what + ": " + std::strerror(errnum)), errnum_(errnum) {}

namespace {

template <typename Visit>
void walk_chain(const std::exception& e, Visit&& visit) {
    visit(e);
    try {
        std::rethrow_if_nested(e);
    } catch (const std::exception& inner) {
        walk_chain(inner, visit);
    } catch (...) {
    }
}

}  // namespace

std::string describe(const std::exception& e) {
    std::string text;
    walk_chain(e, [&](const std::exception& link) {
        if (!text.empty()) text += ": ";
        text += link.what();
    });
    return text;
}

ExitCode exit_code_of(const std::exception& e) {
    ExitCode code = ExitCode::failure;
    walk_chain(e, [&](const std::exception& link) {
        if (const auto* err = dynamic_cast<const Error*>(&link)) code = err->exit_code();
    });
    return code;
}

}  // namespace airstrap
