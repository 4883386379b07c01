// tests/support/readme_table.hpp - checks a plugin README's parameter table against the
// schema its Options struct generates, so the documentation cannot drift from the code.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace tailor::test {

/// Rows (key, type, default, constraint) of the table headed
/// "| key | type | default | constraint | meaning |", backticks removed.
inline std::vector<std::vector<std::string>> readme_parameters(const std::string& path) {
  std::ifstream file(path);
  REQUIRE(file.good());
  std::vector<std::vector<std::string>> rows;
  std::string line;
  bool in_table = false;
  while (std::getline(file, line)) {
    if (line.rfind("| key | type | default | constraint |", 0) == 0) {
      in_table = true;
      std::getline(file, line);  // the |---| separator
      continue;
    }
    if (!in_table) continue;
    if (line.empty() || line[0] != '|') break;
    std::vector<std::string> cells;
    std::stringstream row(line.substr(1));
    std::string cell;
    while (std::getline(row, cell, '|') && cells.size() < 4) {
      cell.erase(std::remove(cell.begin(), cell.end(), '`'), cell.end());
      const size_t first = cell.find_first_not_of(' '), last = cell.find_last_not_of(' ');
      cells.push_back(first == std::string::npos ? "" : cell.substr(first, last - first + 1));
    }
    rows.push_back(cells);
  }
  return rows;
}

/// Every schema line has a README row with the same key, type, default and constraint, in
/// the same order, and the README has no extra rows.
inline void check_readme_matches_schema(const std::string& readme, const std::string& schema) {
  const auto rows = readme_parameters(readme);
  std::stringstream lines(schema);
  std::string line;
  size_t i = 0;
  for (; std::getline(lines, line); ++i) {
    std::vector<std::string> fields;
    std::stringstream parts(line);
    std::string field;
    while (std::getline(parts, field, '\t') && fields.size() < 4) fields.push_back(field);
    INFO("schema line: " << line);
    REQUIRE(i < rows.size());
    REQUIRE(rows[i].size() == 4);
    CHECK(rows[i][0] == fields[0]);
    CHECK(rows[i][1] == fields[1]);
    if (fields[1] == "float")  // the README may write 1e-4 where the schema writes 0.0001
      CHECK(std::stod(rows[i][2]) == std::stod(fields[2]));
    else
      CHECK(rows[i][2] == fields[2]);
    CHECK(rows[i][3] == fields[3]);
  }
  CHECK(i == rows.size());
}

}  // namespace tailor::test
