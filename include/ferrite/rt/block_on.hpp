// SPDX-License-Identifier: Apache-2.0
// rt::block_on(task): runs a task to completion from synchronous code (the main of every
// example and test) on a fresh local_executor, with every task it spawns, and returns its
// result or rethrows its exception. Defined in executor.hpp; this header is its name.
//
// ```cpp
// int main() { return ferrite::rt::block_on(serve()); }
// ```
#pragma once

#include "ferrite/rt/executor.hpp"
