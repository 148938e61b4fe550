// SPDX-License-Identifier: Apache-2.0
// Platform detection and the small set of compiler macros every ferrite header uses:
// architecture and OS, sanitizer detection, inlining and branch hints, and the two
// build switches (FERRITE_CHECK for model-checking builds, FERRITE_METRICS for counters).
#pragma once

// ---- architecture -------------------------------------------------------------------
#if defined(__x86_64__) || defined(_M_X64)
#define FERRITE_ARCH_X86_64 1
#else
#define FERRITE_ARCH_X86_64 0
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
#define FERRITE_ARCH_AARCH64 1
#else
#define FERRITE_ARCH_AARCH64 0
#endif

// ---- operating system ---------------------------------------------------------------
#if defined(__linux__)
#define FERRITE_OS_LINUX 1
#else
#define FERRITE_OS_LINUX 0
#endif

// ---- sanitizers ---------------------------------------------------------------------
#if defined(__SANITIZE_ADDRESS__)
#define FERRITE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FERRITE_ASAN 1
#endif
#endif
#ifndef FERRITE_ASAN
#define FERRITE_ASAN 0
#endif
#if defined(__SANITIZE_THREAD__)
#define FERRITE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FERRITE_TSAN 1
#endif
#endif
#ifndef FERRITE_TSAN
#define FERRITE_TSAN 0
#endif

// ---- compiler hints -----------------------------------------------------------------
#define FERRITE_ALWAYS_INLINE inline __attribute__((always_inline))
#define FERRITE_NOINLINE __attribute__((noinline))
#define FERRITE_COLD __attribute__((cold, noinline))
/// Keeps GCC from folding this function with identical bodies of other instantiations
/// (GCC 12 then reports false -Warray-bounds across the folded types). No-op elsewhere.
#if defined(__GNUC__) && !defined(__clang__)
#define FERRITE_NO_ICF __attribute__((no_icf))
#else
#define FERRITE_NO_ICF
#endif

// ---- build switches -----------------------------------------------------------------
/// FERRITE_CHECK=1 swaps core/atomic.hpp's primitives for the model checker's
/// instrumented ones (see DESIGN.md, "The check indirection"). Default 0.
#ifndef FERRITE_CHECK
#define FERRITE_CHECK 0
#endif

/// FERRITE_METRICS=0 compiles ferrite::metrics counters away to empty types.
/// Model-checking builds default to 0: counters are observation, not protocol, and would
/// only add scheduling points.
#ifndef FERRITE_METRICS
#if FERRITE_CHECK
#define FERRITE_METRICS 0
#else
#define FERRITE_METRICS 1
#endif
#endif

/// FERRITE_DEBUG=1 turns on FERRITE_DEBUG_ASSERT and debug-only checks. Defaults to on
/// when NDEBUG is not defined.
#ifndef FERRITE_DEBUG
#ifdef NDEBUG
#define FERRITE_DEBUG 0
#else
#define FERRITE_DEBUG 1
#endif
#endif
