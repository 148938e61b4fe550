# SPDX-License-Identifier: Apache-2.0
# ferrite_add_model_test(<name> SOURCES <files...> [LIBRARIES <targets...>] [NO_TEST])
#
# Builds a model-test executable: its sources are compiled with FERRITE_CHECK=1, so
# ferrite::atomic, fence, cell and thread are ferrite::check's instrumented primitives, and
# it links ferrite::check (which replaces the global operator new/delete of that executable
# to track allocations: never link it into a production binary). Unless NO_TEST is given,
# the executable is registered with add_test() under the label `model`; a GoogleTest user
# can pass NO_TEST and call gtest_discover_tests() instead. Available after
# find_package(ferrite) (when ferrite was built with the checker) and in the source tree.
function(ferrite_add_model_test name)
  cmake_parse_arguments(arg "NO_TEST" "" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT TARGET ferrite::check)
    message(FATAL_ERROR "ferrite_add_model_test(${name}): ferrite::check is not available "
      "(ferrite was built without Boost.Context)")
  endif()
  add_executable(${name} ${arg_SOURCES})
  target_compile_definitions(${name} PRIVATE FERRITE_CHECK=1)
  target_link_libraries(${name} PRIVATE ferrite::check ${arg_LIBRARIES})
  if(NOT arg_NO_TEST)
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES LABELS model)
  endif()
endfunction()
