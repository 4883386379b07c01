// host/report/run_files.hpp - reading back the files a run directory holds (for reports and
// comparisons).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tailor::host {

/// per_class.csv: one entry per class, in class order.
struct PerClassTable {
  std::vector<std::string> name;
  std::vector<int64_t> train_count;
  std::vector<int> group;           ///< 0 many, 1 medium, 2 few
  std::vector<double> last_recall;  ///< test recall after the last epoch; NaN when empty
  std::vector<double> best_recall;  ///< test recall at the best-on-val epoch; NaN when empty
  size_t size() const { return name.size(); }
};

/// Reads per_class.csv. Throws std::runtime_error naming the file and line when it is
/// missing or malformed.
PerClassTable read_per_class(const std::filesystem::path& file);

/// The JSON objects of a JSON-lines file (metrics.jsonl, class_vectors.jsonl); an empty
/// vector when the file does not exist. A line that does not parse is an error naming the
/// file and line, except a last line without its newline (a run killed while writing it),
/// which is skipped.
std::vector<nlohmann::json> read_json_lines(const std::filesystem::path& file);

/// The integer matrix of confusion_test_last.csv; empty when the file does not exist.
std::vector<std::vector<int64_t>> read_confusion(const std::filesystem::path& file);

}  // namespace tailor::host
