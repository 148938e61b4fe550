// SPDX-License-Identifier: Apache-2.0
// wire::parse_error's descriptions and message.
#include "ferrite/io/wire.hpp"

#include <string>

namespace ferrite::io::wire {

const char* to_string(parse_errc e) noexcept {
  switch (e) {
    case parse_errc::short_header: return "short header";
    case parse_errc::short_payload: return "short payload";
    case parse_errc::too_long: return "length too long";
    case parse_errc::bad_length: return "length smaller than the header";
    case parse_errc::invalid: return "invalid header";
  }
  return "unknown";
}

std::string parse_error::message() const {
  std::string out = "wire::parse: ";
  out += to_string(reason);
  out += " at byte " + std::to_string(offset);
  switch (reason) {
    case parse_errc::short_header:
    case parse_errc::short_payload:
      out += " (frame needs " + std::to_string(needed) + " bytes)";
      break;
    case parse_errc::too_long:
    case parse_errc::bad_length: out += " (length " + std::to_string(needed) + ")"; break;
    case parse_errc::invalid: break;
  }
  return out;
}

}  // namespace ferrite::io::wire
