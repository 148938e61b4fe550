// SPDX-License-Identifier: Apache-2.0
// io::error: the error of every io operation that touches a file or a descriptor. It is
// ferrite::error (a code, the operation's static name, an errno in detail_a for
// errc::system) plus the path the operation was given, since "open: No such file" without
// the file is the message nobody can act on. The path is the only allocation, and only on
// the failure path. Operations on memory alone (records, wire parsing) keep ferrite::error or
// their own parse errors: there is no path to name.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "ferrite/core/error.hpp"

namespace ferrite::io {

/// What went wrong in a file or descriptor operation, and on which path.
class error {
 public:
  error() = default;
  /// Wraps `base` (code, operation, details) and records `path` ("" when there is none).
  error(ferrite::error base, std::string_view path) : base_(base), path_(path) {}

  /// errc::system with `errno_value`, from the operation named `what` on `path`.
  static error from_errno(int errno_value, const char* what, std::string_view path) {
    return error(ferrite::error::from_errno(errno_value, what), path);
  }

  /// The code (errc::system for a failed OS call).
  [[nodiscard]] errc code() const noexcept { return base_.code(); }
  /// The errno of a failed OS call; 0 for any other code.
  [[nodiscard]] int errno_value() const noexcept {
    return base_.code() == errc::system ? static_cast<int>(base_.detail_a()) : 0;
  }
  /// The operation that failed, e.g. "mapped_file::open".
  [[nodiscard]] std::string_view what() const noexcept { return base_.what(); }
  /// The path the operation was given; "" for a descriptor without one.
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  /// The path-less core error (code, operation, details).
  [[nodiscard]] const ferrite::error& base() const noexcept { return base_; }

  /// Human-readable, e.g.
  /// "mapped_file::open: system error (No such file or directory, errno 2) [path /tmp/x]".
  [[nodiscard]] std::string message() const;

  friend bool operator==(const error& x, errc c) noexcept { return x.code() == c; }

 private:
  ferrite::error base_;
  std::string path_;
};

}  // namespace ferrite::io
