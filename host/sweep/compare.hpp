// host/sweep/compare.hpp - `tailor compare`: runs grouped by configuration, metrics as
// mean ± std over seeds, written as Markdown and CSV.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace tailor::host {

/// One finished run directory.
struct RunRecord {
  std::filesystem::path dir;
  std::map<std::string, std::string> config;  ///< flattened config.resolved.toml
  nlohmann::json summary;                     ///< summary.json
};

/// Finished runs under `inputs`: a run directory (has summary.json), a sweep directory (has
/// sweep.json; runs in plan order, unfinished ones skipped with a warning) or any folder
/// (searched recursively, sorted by path). Throws when an input is missing or holds no run.
std::vector<RunRecord> find_runs(const std::vector<std::filesystem::path>& inputs);

/// Which evaluation of each run a table reports.
enum class Selection {
  kBestOnVal,  ///< the epoch with the best val top-1 (last epoch when a run has no val split)
  kLast,       ///< after the last epoch
};

/// The metrics of a comparison, in column order.
struct Metric {
  const char* name;   ///< CSV column stem, e.g. "top1"
  const char* title;  ///< Markdown header
};
const std::vector<Metric>& compare_metrics();

/// Runs that differ only in their seed.
struct CompareRow {
  std::string label;              ///< the configuration keys that set this row apart
  std::vector<std::string> runs;  ///< run directories
  std::vector<double> mean, std;  ///< per metric; NaN when no run has the value
};

struct CompareTable {
  std::vector<std::string> label_keys;  ///< keys whose values tell the rows apart
  std::vector<CompareRow> rows;
  Selection selection = Selection::kBestOnVal;
};

/// Groups `runs` by their configuration without seed and thread keys. Row labels are the
/// keys that differ between groups: the experiment name, plus any key that still differs
/// between groups of one name. Throws when the runs are of different datasets
/// (dataset.plugin or dataset.root differ) or a run has no test results.
CompareTable compare_runs(const std::vector<RunRecord>& runs, Selection selection);

/// Accuracy-type metrics in percent with two decimals, "mean ± std" (std over seeds, n-1).
std::string to_markdown(const CompareTable& table);
/// One row per group: label, runs, then <metric>_mean and <metric>_std as fractions.
std::string to_csv(const CompareTable& table);

}  // namespace tailor::host
