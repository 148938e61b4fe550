// SPDX-License-Identifier: Apache-2.0
// jemalloc and mimalloc as benchmark peers, loaded with dlopen(RTLD_LOCAL) and called through
// dlsym: both export an unprefixed malloc that, linked normally, would replace glibc's malloc
// in the whole binary and make a glibc (or operator new) column measure them instead. That
// costs them one indirect call per operation, which the other columns do not pay.
//
// Include it in one translation unit per benchmark binary: it also defines the constructor
// that makes room for jemalloc's static TLS (below).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdlib>
#include <string>

#if __has_include(<dlfcn.h>)
#include <dlfcn.h>
#include <unistd.h>  // execv
#define FERRITE_BENCH_HAVE_DLOPEN 1
#else
#define FERRITE_BENCH_HAVE_DLOPEN 0
#endif

namespace ferrite_bench::peers {

/// A function of a dlopen'ed library, or nullptr.
template <class Fn>
Fn symbol(void* library, const char* name) {
#if FERRITE_BENCH_HAVE_DLOPEN
  // POSIX: the object pointer dlsym returns for a function can be converted back to it.
  return library != nullptr ? std::bit_cast<Fn>(dlsym(library, name)) : nullptr;
#else
  static_cast<void>(library);
  static_cast<void>(name);
  return nullptr;
#endif
}

/// A library opened with dlopen(RTLD_LOCAL): its symbols never interpose on the binary's.
struct library {
  void* handle = nullptr;
  std::string error;  ///< dlerror() when handle is nullptr
};

inline library open_library(const char* soname) {
#if FERRITE_BENCH_HAVE_DLOPEN
  void* handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  // Called once per library from a function-local static (thread-safe initialization).
  const char* error = handle == nullptr ? dlerror() : nullptr;  // NOLINT(concurrency-mt-unsafe)
  return {handle, error != nullptr ? error : ""};
#else
  return {nullptr, std::string(soname) + ": no dlopen on this platform"};
#endif
}

/// jemalloc's non-standard API (mallocx/dallocx/sdallocx: no interposition on malloc).
struct jemalloc_api {
  void* (*mallocx)(std::size_t, int) = nullptr;
  void (*dallocx)(void*, int) = nullptr;
  void (*sdallocx)(void*, std::size_t, int) = nullptr;
  std::string error;  ///< why it could not be loaded
};

inline const jemalloc_api& load_jemalloc() {
  static const jemalloc_api api = [] {
    const library lib = open_library("libjemalloc.so.2");
    return jemalloc_api{symbol<void* (*)(std::size_t, int)>(lib.handle, "mallocx"),
                        symbol<void (*)(void*, int)>(lib.handle, "dallocx"),
                        symbol<void (*)(void*, std::size_t, int)>(lib.handle, "sdallocx"),
                        lib.error};
  }();
  return api;
}

/// jemalloc, or nullptr when libjemalloc.so.2 is not installed or could not be loaded.
inline const jemalloc_api* jemalloc() {
  const jemalloc_api& api = load_jemalloc();
  return api.mallocx != nullptr && api.dallocx != nullptr && api.sdallocx != nullptr ? &api
                                                                                     : nullptr;
}

/// mimalloc's prefixed API.
struct mimalloc_api {
  void* (*malloc)(std::size_t) = nullptr;
  void (*free)(void*) = nullptr;
  std::string error;  ///< why it could not be loaded
};

inline const mimalloc_api& load_mimalloc() {
  static const mimalloc_api api = [] {
    const library lib = open_library("libmimalloc.so.2");
    return mimalloc_api{symbol<void* (*)(std::size_t)>(lib.handle, "mi_malloc"),
                        symbol<void (*)(void*)>(lib.handle, "mi_free"), lib.error};
  }();
  return api;
}

/// mimalloc, or nullptr when libmimalloc.so.2 is not installed.
inline const mimalloc_api* mimalloc() {
  const mimalloc_api& api = load_mimalloc();
  return api.malloc != nullptr && api.free != nullptr ? &api : nullptr;
}

namespace {
#if FERRITE_BENCH_HAVE_DLOPEN && defined(__GLIBC__)
// Debian's libjemalloc.so.2 uses the initial-exec TLS model: dlopen needs 2.6 KB of glibc's
// surplus static TLS, more than its 512-byte default. When the first dlopen fails, the
// binary re-executes itself once with that surplus raised (glibc.rtld.optional_static_tls),
// before main. FERRITE_BENCH_NO_REEXEC=1 skips jemalloc instead (e.g. under valgrind).
// glibc passes (argc, argv, envp) to the constructors of the main executable.
// NOLINTBEGIN(concurrency-mt-unsafe): getenv/setenv run before main, on the only thread.
__attribute__((constructor)) void make_room_for_jemalloc_tls(int /*argc*/, char** argv,
                                                             char** /*envp*/) {
  if (argv == nullptr || std::getenv("FERRITE_BENCH_NO_REEXEC") != nullptr) return;
  if (jemalloc() != nullptr) return;
  if (load_jemalloc().error.find("static TLS") == std::string::npos) return;  // not that
  std::string tunables = "glibc.rtld.optional_static_tls=16384";
  if (const char* old = std::getenv("GLIBC_TUNABLES"); old != nullptr) {
    tunables = std::string(old) + ":" + tunables;
  }
  setenv("GLIBC_TUNABLES", tunables.c_str(), 1);
  setenv("FERRITE_BENCH_NO_REEXEC", "1", 1);
  execv("/proc/self/exe", argv);  // returns only on failure: run without jemalloc
}
// NOLINTEND(concurrency-mt-unsafe)
#endif
}  // namespace

}  // namespace ferrite_bench::peers
