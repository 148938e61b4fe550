// SPDX-License-Identifier: Apache-2.0
// ferrite core: the layer every other module stands on.
//
// What is here
//   platform.hpp      architecture/OS/sanitizer macros; FERRITE_CHECK, FERRITE_METRICS switches
//   atomic.hpp        ferrite::atomic / fence / cell / spin_hint / thread: the check
//                     indirection (std types normally, the model checker's in check builds)
//   cache_padded.hpp  cache_padded<T>: one value per cache line (128 B on x86-64)
//   backoff.hpp       exponential backoff for spin loops (crossbeam's Backoff)
//   cpu.hpp           pause, rdtsc/rdtscp, cycle_clock, cpuid feature detection
//   bits.hpp          branch-free next_pow2, align_up/down, log2, popcount helpers
//   flags.hpp         flags<E>: type-safe bit flags over an enum class (Rust's bitflags)
//   pod.hpp           pod/zeroable concepts, as_bytes, try_cast (bytemuck-style)
//   contract.hpp      FERRITE_ASSERT, FERRITE_DEBUG_ASSERT, FERRITE_UNREACHABLE
//   error.hpp         ferrite::error / errc: the error of every std::expected in ferrite
//   metrics.hpp       per-thread counters, gauges, histograms; compiled away with
//                     FERRITE_METRICS=0
//
// A taste:
// ```cpp
// #include <ferrite/core.hpp>
//
// enum class perm : unsigned { read = 1, write = 2 };
// consteval auto ferrite_flags(perm) {
//   return std::array{ferrite::flag_def{perm::read, "READ"}, ferrite::flag_def{perm::write,
//   "WRITE"}};
// }
// inline ferrite::metrics::counter g_reads{"app.reads", "records read"};
//
// std::expected<const header*, ferrite::error> parse(std::span<const std::byte> in) {
//   g_reads.add();
//   return ferrite::try_cast<header>(in);  // exact size and alignment checked
// }
// ```
//
// When not to use it: core has no allocator, container or queue; those are mem and sync.
// Include the individual headers in library code; this umbrella is for applications.
#pragma once

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/backoff.hpp"
#include "ferrite/core/bits.hpp"
#include "ferrite/core/cache_padded.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/core/cpu.hpp"
#include "ferrite/core/error.hpp"
#include "ferrite/core/flags.hpp"
#include "ferrite/core/metrics.hpp"
#include "ferrite/core/platform.hpp"
#include "ferrite/core/pod.hpp"
