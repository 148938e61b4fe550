# SPDX-License-Identifier: Apache-2.0
# Fails when library code bypasses the check indirection of core/atomic.hpp: every use of
# std::atomic, std::atomic_ref, std::atomic_thread_fence, std::atomic_signal_fence,
# std::thread or std::this_thread must go through ferrite::atomic / fence / thread /
# yield_now so the model checker sees it. Allowed: core/atomic.hpp itself, the checker.
# Run with: cmake -DROOT=<source dir> -P atomic_bypass_test.cmake
file(GLOB_RECURSE files RELATIVE "${ROOT}"
  "${ROOT}/include/*.hpp" "${ROOT}/src/*.cpp" "${ROOT}/src/*.hpp" "${ROOT}/apps/*.cpp"
  "${ROOT}/apps/*.hpp")
set(pattern "std::(atomic|atomic_ref|atomic_thread_fence|atomic_signal_fence|thread|jthread|this_thread)[^_a-zA-Z]")
set(bad "")
set(checked 0)
foreach(f IN LISTS files)
  if(f MATCHES "^include/ferrite/core/atomic\\.hpp$" OR f MATCHES "^(include/ferrite|src)/check/")
    continue()
  endif()
  math(EXPR checked "${checked} + 1")
  file(STRINGS "${ROOT}/${f}" lines)
  set(n 0)
  foreach(line IN LISTS lines)
    math(EXPR n "${n} + 1")
    string(REGEX REPLACE "//.*$" "" code "${line}")
    if(code MATCHES "${pattern}")
      string(APPEND bad "  ${f}:${n}: ${line}\n")
    endif()
  endforeach()
endforeach()
if(checked EQUAL 0)
  message(FATAL_ERROR "atomic bypass test found no files under ${ROOT}")
endif()
if(bad)
  message(FATAL_ERROR "library code bypasses ferrite/core/atomic.hpp:\n${bad}")
endif()
message(STATUS "atomic indirection: ${checked} files clean")
