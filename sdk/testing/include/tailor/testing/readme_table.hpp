// tailor/testing/readme_table.hpp - checks a plugin README's parameter table against the
// schema its Options struct generates, so the documentation cannot drift from the code.
//
// The table is the first one whose header row starts with the cells key, type, default,
// constraint (a fifth cell, usually "meaning", is free text and not compared):
//
//   | key   | type  | default | constraint | meaning           |
//   |-------|-------|---------|------------|-------------------|
//   | `gamma` | float | `2.0` | `>= 0`     | focusing parameter |
//
// Backticks and padding in cells are ignored; a float default may be written in any form
// that reads as the same number (1e-4 for 0.0001).
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace tailor::testing {

/// Every way the parameter table of the README at `readme_path` differs from `schema`
/// (tailor::schema_of<T>() text): a missing, extra or out-of-order row, or a type, default
/// or constraint that is not the schema's. Each entry is one sentence naming the row and
/// key. Empty when they agree, or when the schema is empty and the README has no table.
std::vector<std::string> readme_table_differences(const std::string& readme_path,
                                                  const std::string& schema);

/// Catch2 check: fails the current test case, listing every difference, unless the README
/// table matches the schema.
///
///   TEST_CASE("README parameter table matches the options schema") {
///     tailor::testing::check_readme_matches_schema(PLUGIN_README,
///                                                  tailor::schema_of<MyLoss::Options>());
///   }
inline void check_readme_matches_schema(const std::string& readme_path, const std::string& schema) {
  const std::vector<std::string> differences = readme_table_differences(readme_path, schema);
  std::string listed;
  for (const std::string& difference : differences) listed += "\n  " + difference;
  INFO(readme_path << " does not match the options schema:" << listed);
  CHECK(differences.empty());
}

}  // namespace tailor::testing
