// host/report/run_files.cpp - parsers of per_class.csv, JSON-lines files and the confusion
// matrix.
#include "report/run_files.hpp"

#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace tailor::host {
namespace {

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, ',')) fields.push_back(field);
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  return fields;
}

}  // namespace

PerClassTable read_per_class(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read " + file.string() + " (a finished run writes it)");
  std::string line;
  std::getline(in, line);
  const auto header = split_csv(line);
  auto column = [&](const char* name) {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return i;
    throw std::runtime_error(file.string() + " has no '" + name +
                             "' column; it was not written by tailor run");
  };
  const size_t c_name = column("name"), c_count = column("train_count"), c_shot = column("shot"),
               c_last = column("last_recall"), c_best = column("best_val_recall");
  PerClassTable t;
  int64_t number = 1;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    const auto f = split_csv(line);
    auto where = [&] { return file.string() + ":" + std::to_string(number); };
    if (f.size() < header.size())
      throw std::runtime_error(where() + ": " + std::to_string(f.size()) + " fields, expected " +
                               std::to_string(header.size()));
    auto real = [&](const std::string& s) {
      if (s.empty()) return std::numeric_limits<double>::quiet_NaN();
      try {
        return std::stod(s);
      } catch (const std::exception&) {
        throw std::runtime_error(where() + ": '" + s + "' is not a number");
      }
    };
    t.name.push_back(f[c_name]);
    t.train_count.push_back(static_cast<int64_t>(real(f[c_count])));
    const std::string& shot = f[c_shot];
    if (shot == "many")
      t.group.push_back(0);
    else if (shot == "medium")
      t.group.push_back(1);
    else if (shot == "few")
      t.group.push_back(2);
    else
      throw std::runtime_error(where() + ": shot '" + shot + "', expected many, medium or few");
    t.last_recall.push_back(real(f[c_last]));
    t.best_recall.push_back(real(f[c_best]));
  }
  return t;
}

std::vector<nlohmann::json> read_json_lines(const fs::path& file) {
  std::vector<nlohmann::json> out;
  std::ifstream in(file);
  if (!in) return out;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t start = 0, number = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    const bool complete = end != std::string::npos;
    const std::string line = text.substr(start, complete ? end - start : std::string::npos);
    ++number;
    start = complete ? end + 1 : text.size();
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      if (!complete) break;  // cut short by a crash while it was written
      throw std::runtime_error(file.string() + ":" + std::to_string(number) +
                               " is not a JSON object; the file is damaged");
    }
    out.push_back(std::move(j));
  }
  return out;
}

std::vector<std::vector<int64_t>> read_confusion(const fs::path& file) {
  std::vector<std::vector<int64_t>> m;
  std::ifstream in(file);
  if (!in) return m;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<int64_t> row;
    for (const auto& f : split_csv(line)) {
      try {
        row.push_back(std::stoll(f));
      } catch (const std::exception&) {
        throw std::runtime_error(file.string() + ":" + std::to_string(m.size() + 1) + ": '" + f +
                                 "' is not a count");
      }
    }
    m.push_back(std::move(row));
  }
  for (const auto& row : m)
    if (row.size() != m.size()) throw std::runtime_error(file.string() + " is not a square matrix");
  return m;
}

}  // namespace tailor::host
