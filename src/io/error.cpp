// SPDX-License-Identifier: Apache-2.0
// io::error's message: the core message, then the path.
#include "ferrite/io/error.hpp"

#include <string>

namespace ferrite::io {

std::string error::message() const {
  std::string out = base_.message();
  if (!path_.empty()) {
    out.append(" [path ");
    out.append(path_);
    out.append("]");
  }
  return out;
}

}  // namespace ferrite::io
