// Text files compiled into the binary (cmake/EmbedFiles.cmake): Packstack's parameter
// tables, the site template. airstrap runs where no data folder can be assumed.
#pragma once

#include <cstddef>
#include <string_view>

namespace airstrap {

struct EmbeddedFile {
    const char* name;  // the file's stem: "queens", "site-template"
    const char* text;
};

}  // namespace airstrap
