# airstrap_embed_files(<target> SYMBOL <name> FILES <file>...): compiles the files' text into
# <target> as `const airstrap::EmbeddedFile <name>[]` and `<name>_count`.
function(airstrap_embed_files target)
  cmake_parse_arguments(ARG "" "SYMBOL" "FILES" ${ARGN})
  list(TRANSFORM ARG_FILES PREPEND ${CMAKE_CURRENT_SOURCE_DIR}/ OUTPUT_VARIABLE paths)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${ARG_SYMBOL}.cpp)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} "-DINPUTS=${paths}" -DOUTPUT=${out} -DSYMBOL=${ARG_SYMBOL}
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_files.cmake
    DEPENDS ${paths} ${PROJECT_SOURCE_DIR}/cmake/embed_files.cmake
    COMMENT "Embedding ${ARG_SYMBOL}"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
endfunction()
