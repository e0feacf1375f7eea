// libarchive's last error as text: archive_error_string() may return NULL.
#pragma once

#include <archive.h>

#include <string>

namespace airstrap::mirror {

inline std::string archive_error(archive* a) {
    const char* s = archive_error_string(a);
    return s ? s : "unknown libarchive error";
}

}  // namespace airstrap::mirror
