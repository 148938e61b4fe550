// SPDX-License-Identifier: Apache-2.0
// Placeholder umbrella: being written.
#pragma once
#include "ferrite/core.hpp"
