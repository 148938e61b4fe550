# SPDX-License-Identifier: Apache-2.0
# ferrite_add_module(): one library target per module, aliased ferrite::<module>, with its
# public headers listed explicitly (no globbing). The header list feeds the header-alone
# test and the install rules.
include_guard(GLOBAL)

# Warnings for ferrite's own code only (tests, benchmarks, examples, library sources);
# never propagated to consumers. They are errors when FERRITE_WERROR is on (the default
# only when ferrite is the top-level project: a consumer's newer compiler may warn where
# ours does not, and that must not break the consumer's build).
add_library(ferrite_warnings INTERFACE)
target_compile_options(ferrite_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual -Wimplicit-fallthrough
  $<$<BOOL:${FERRITE_WERROR}>:-Werror>)

# ferrite_add_module(<name> HEADERS <h...> [SOURCES <s...>] [DEPS <targets...>])
function(ferrite_add_module name)
  cmake_parse_arguments(arg "" "" "HEADERS;SOURCES;DEPS" ${ARGN})
  set(target ferrite_${name})
  if(arg_SOURCES)
    add_library(${target} ${arg_SOURCES})
    set(scope PUBLIC)
    target_link_libraries(${target} PRIVATE $<BUILD_INTERFACE:ferrite_warnings>)
  else()
    add_library(${target} INTERFACE)
    set(scope INTERFACE)
  endif()
  add_library(ferrite::${name} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name} OUTPUT_NAME ferrite_${name})
  target_compile_features(${target} ${scope} cxx_std_23)
  if(arg_DEPS)
    target_link_libraries(${target} ${scope} ${arg_DEPS})
  endif()
  # The header set is also the include directory: its base directory in the build tree,
  # its install destination (FerriteInstall.cmake) for installed consumers.
  list(TRANSFORM arg_HEADERS PREPEND "${PROJECT_SOURCE_DIR}/include/")
  target_sources(${target} ${scope} FILE_SET HEADERS
    BASE_DIRS $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> FILES ${arg_HEADERS})
  set_property(GLOBAL APPEND PROPERTY FERRITE_MODULES ${name})
  set_property(GLOBAL APPEND PROPERTY FERRITE_PUBLIC_HEADERS ${arg_HEADERS})
endfunction()
