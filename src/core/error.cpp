// SPDX-License-Identifier: Apache-2.0
// ferrite::error's descriptions and message rendering.
#include "ferrite/core/error.hpp"

#include <cstring>
#include <string>

namespace ferrite {

const char* to_string(errc code) noexcept {
  switch (code) {
    case errc::ok: return "ok";
    case errc::invalid_argument: return "invalid argument";
    case errc::out_of_range: return "out of range";
    case errc::overflow: return "size overflow";
    case errc::size_mismatch: return "size mismatch";
    case errc::misaligned: return "misaligned";
    case errc::length_not_multiple: return "length not a multiple of the element size";
    case errc::invalid_bits: return "undeclared bits set";
    case errc::no_memory: return "out of memory";
    case errc::would_block: return "would block";
    case errc::closed: return "closed";
    case errc::timed_out: return "timed out";
    case errc::cancelled: return "cancelled";
    case errc::parse_error: return "parse error";
    case errc::unsupported: return "unsupported";
    case errc::system: return "system error";
  }
  return "unknown error";
}

namespace {
std::string hex(std::uint64_t v) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  do {
    s.insert(s.begin(), digits[v & 0xfU]);
    v >>= 4U;
  } while (v != 0);
  return "0x" + s;
}

// strerror() may use a shared buffer; glibc's strerrordesc_np is thread-safe.
const char* describe_errno(int err) noexcept {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char* d = strerrordesc_np(err);
  return d != nullptr ? d : "unknown errno";
#else
  return std::strerror(err);  // NOLINT(concurrency-mt-unsafe): no thread-safe variant here
#endif
}

std::string details(const error& e) {
  const auto a = e.detail_a();
  const auto b = e.detail_b();
  switch (e.code()) {
    case errc::size_mismatch:
      return " (expected " + std::to_string(a) + " bytes, got " + std::to_string(b) + ")";
    case errc::misaligned:
      return " (address " + hex(b) + " is not aligned to " + std::to_string(a) + ")";
    case errc::length_not_multiple:
      return " (length " + std::to_string(b) + " is not a multiple of " + std::to_string(a) + ")";
    case errc::invalid_bits: return " (bits " + hex(a) + ")";
    case errc::parse_error: return " (at byte " + std::to_string(a) + ")";
    case errc::system: {
      const int err = static_cast<int>(a);
      return std::string(" (") + describe_errno(err) + ", errno " + std::to_string(err) + ")";
    }
    default: return "";
  }
}
}  // namespace

std::string error::message() const {
  std::string out;
  if (!what().empty()) {
    out.append(what());
    out.append(": ");
  }
  out.append(to_string(code_));
  out.append(details(*this));
  return out;
}

}  // namespace ferrite
