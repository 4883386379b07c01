// The README parameter table of a plugin against its options schema.
#include <tailor/testing/readme_table.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace tailor::testing {

namespace {

std::string trim(const std::string& s) {
  const size_t first = s.find_first_not_of(" \t"), last = s.find_last_not_of(" \t\r");
  return first == std::string::npos ? "" : s.substr(first, last - first + 1);
}

// The cells of a Markdown table row "| a | `b` | c |", trimmed, backticks removed.
std::vector<std::string> cells_of(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream row(trim(line).substr(1));
  std::string cell;
  while (std::getline(row, cell, '|')) {
    cell.erase(std::remove(cell.begin(), cell.end(), '`'), cell.end());
    cells.push_back(trim(cell));
  }
  return cells;
}

bool is_header(const std::vector<std::string>& cells) {
  static const std::vector<std::string> kHeader = {"key", "type", "default", "constraint"};
  return cells.size() >= kHeader.size() &&
         std::equal(kHeader.begin(), kHeader.end(), cells.begin());
}

std::vector<std::string> fields_of(const std::string& schema_line) {
  std::vector<std::string> fields;
  std::stringstream parts(schema_line);
  std::string field;
  while (std::getline(parts, field, '\t')) fields.push_back(field);
  return fields;
}

bool same_number(const std::string& a, const std::string& b) {
  char* end_a = nullptr;
  char* end_b = nullptr;
  const double x = std::strtod(a.c_str(), &end_a);
  const double y = std::strtod(b.c_str(), &end_b);
  return !a.empty() && !b.empty() && *end_a == '\0' && *end_b == '\0' && x == y;
}

}  // namespace

std::vector<std::string> readme_table_differences(const std::string& readme_path,
                                                  const std::string& schema) {
  std::vector<std::vector<std::string>> rows;
  bool found = false;
  {
    std::ifstream file(readme_path);
    if (!file.good()) return {"cannot read the README " + readme_path};
    std::string line;
    while (std::getline(file, line)) {
      const std::string t = trim(line);
      if (t.empty() || t[0] != '|') {
        if (found) break;  // the end of the table
        continue;
      }
      const std::vector<std::string> cells = cells_of(t);
      if (!found) {
        if (is_header(cells)) {
          found = true;
          std::getline(file, line);  // the |---| separator
        }
        continue;
      }
      rows.push_back(cells);
    }
  }

  std::vector<std::vector<std::string>> entries;
  {
    std::stringstream lines(schema);
    std::string line;
    while (std::getline(lines, line))
      if (!trim(line).empty()) entries.push_back(fields_of(line));
  }
  if (!found) {
    if (entries.empty()) return {};
    return {readme_path + " has no parameter table (a header row '| key | type | default | " +
            "constraint | meaning |'); the schema has " + std::to_string(entries.size()) + " keys"};
  }

  std::vector<std::string> differences;
  const size_t common = std::min(rows.size(), entries.size());
  for (size_t i = 0; i < common; ++i) {
    const std::vector<std::string>& row = rows[i];
    const std::vector<std::string>& entry = entries[i];
    const std::string where =
        "README row " + std::to_string(i + 1) + " ('" + (row.empty() ? "" : row[0]) + "'): ";
    if (row.size() < 4 || entry.size() < 4) {
      differences.push_back(where + "needs 4 cells (key, type, default, constraint), has " +
                            std::to_string(row.size()) + "; the schema line is '" + entries[i][0] +
                            "'");
      continue;
    }
    if (row[0] != entry[0]) {
      differences.push_back(where + "the schema's key " + std::to_string(i + 1) + " is '" +
                            entry[0] + "'");
      continue;
    }
    const char* names[] = {"key", "type", "default", "constraint"};
    for (size_t c = 1; c < 4; ++c) {
      // A float default may be written in another form of the same number (1e-4, 0.0001).
      const bool same =
          row[c] == entry[c] || (c == 2 && entry[1] == "float" && same_number(row[c], entry[c]));
      if (!same)
        differences.push_back(where + names[c] + " is '" + row[c] + "', the schema says '" +
                              entry[c] + "'");
    }
  }
  for (size_t i = common; i < entries.size(); ++i)
    differences.push_back("README has no row for schema key '" + entries[i][0] + "' (key " +
                          std::to_string(i + 1) + " of " + std::to_string(entries.size()) + ")");
  for (size_t i = common; i < rows.size(); ++i)
    differences.push_back("README row " + std::to_string(i + 1) + " ('" +
                          (rows[i].empty() ? "" : rows[i][0]) + "') is not in the schema");
  return differences;
}

}  // namespace tailor::testing
