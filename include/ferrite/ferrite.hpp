// SPDX-License-Identifier: Apache-2.0
// ferrite: zero-cost, verified systems primitives for C++23. This umbrella includes every
// module that exists; each module's own umbrella (<ferrite/core.hpp>, ...) is a short
// tutorial of it. Link the CMake target ferrite::ferrite (or one ferrite::<module>).
#pragma once

#include "ferrite/core.hpp"
#include "ferrite/io.hpp"
#include "ferrite/mem.hpp"
#include "ferrite/rt.hpp"
#include "ferrite/simd.hpp"
#include "ferrite/sync.hpp"
