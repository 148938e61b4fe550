// SPDX-License-Identifier: Apache-2.0
// ferrite io (placeholder umbrella, completed below as the module grows).
#pragma once

#include "ferrite/io/error.hpp"
#include "ferrite/io/mapped_file.hpp"
