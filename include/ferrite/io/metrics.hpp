// SPDX-License-Identifier: Apache-2.0
// The io module's metrics: bytes handed out as views into existing memory (a mapping, a
// caller's buffer) against bytes copied (a frame assembled across reads, a checked read, a
// buffer grown). Their ratio is how zero-copy a program's I/O really is. Counters compile to
// nothing with FERRITE_METRICS=0.
#pragma once

#include "ferrite/core/metrics.hpp"

namespace ferrite::io::detail {

/// Bytes given out as views without a copy (records<T>::from, frame_reader's in-buffer frames).
inline ferrite::metrics::counter bytes_viewed{"io.bytes_viewed",
                                              "bytes handed out as zero-copy views"};
/// Bytes copied by io (frames assembled across buffers, read_checked, bytes_mut growth).
inline ferrite::metrics::counter bytes_copied{"io.bytes_copied", "bytes copied by ferrite::io"};

}  // namespace ferrite::io::detail
