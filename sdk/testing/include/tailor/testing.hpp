// tailor/testing.hpp - the plugin test kit (CMake target Tailor::testing): options from a
// TOML snippet, a LossContext from class counts, a finite-difference gradient check, and
// the README-table-vs-schema check. tailor_add_plugin_test() builds a Catch2 test with it.
#pragma once

#include <tailor/testing/gradient_check.hpp>
#include <tailor/testing/loss_context.hpp>
#include <tailor/testing/options.hpp>
#include <tailor/testing/readme_table.hpp>
