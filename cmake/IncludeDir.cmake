# airstrap_include_dir(<target> [HEADERS <header>...]): gives <target> an include directory
# of its own, ${PROJECT_BINARY_DIR}/include/<target>, holding a link named after the source
# folder (or, with HEADERS, a folder of links to just those headers: for a folder shared by
# two libraries). `#include "folder/x.hpp"` then resolves only in targets that link <target>,
# directly or through a PUBLIC dependency: an include across a boundary that CMake does not
# declare fails to compile. The project root itself is on no include path.
function(airstrap_include_dir target)
  cmake_parse_arguments(ARG "" "" "HEADERS" ${ARGN})
  get_filename_component(folder ${CMAKE_CURRENT_SOURCE_DIR} NAME)
  set(root ${PROJECT_BINARY_DIR}/include/${target})
  file(REMOVE_RECURSE ${root})
  if(ARG_HEADERS)
    file(MAKE_DIRECTORY ${root}/${folder})
    foreach(header IN LISTS ARG_HEADERS)
      file(CREATE_LINK ${CMAKE_CURRENT_SOURCE_DIR}/${header} ${root}/${folder}/${header} SYMBOLIC)
    endforeach()
  else()
    file(MAKE_DIRECTORY ${root})
    file(CREATE_LINK ${CMAKE_CURRENT_SOURCE_DIR} ${root}/${folder} SYMBOLIC)
  endif()
  target_include_directories(${target} PUBLIC ${root})
endfunction()
