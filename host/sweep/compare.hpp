// host/sweep/compare.hpp - `tailor compare`: runs grouped by configuration, metrics as
// means with Student-t intervals over seeds, paired differences to a baseline row, written
// as Markdown and CSV (docs/statistics.md).
#pragma once

#include "eval/statistics.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
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

/// Runs that differ only in their seeds (experiment.seed and dataset.seed).
struct CompareRow {
  std::string label;                          ///< the configuration keys that set this row apart
  std::vector<std::string> runs;              ///< run directories
  std::vector<size_t> members;                ///< positions of those runs in compare_runs()'s input
  std::map<std::string, std::string> config;  ///< shared configuration, seeds left out
  std::vector<double> mean, std;              ///< per metric; NaN when no run has the value
  std::vector<Interval> interval;  ///< per metric: mean and 95 % Student-t interval, with n
  /// Spread of top-1 by source when runs have several dataset.seed values: the standard
  /// deviation of the per-subsample means, and the pooled one within subsamples; NaN
  /// otherwise.
  double top1_sd_between_subsamples = 0, top1_sd_within_subsample = 0;
  int64_t subsamples = 0;  ///< distinct dataset.seed values
  // With a baseline (add_paired_differences):
  bool is_baseline = false;
  std::string baseline;  ///< label of the baseline row this row is paired with
  bool paired = false;   ///< `difference` holds results
  std::array<Difference, kPairedMetrics> difference{};  ///< row - baseline
};

struct CompareTable {
  std::vector<std::string> label_keys;  ///< keys whose values tell the rows apart
  std::vector<CompareRow> rows;
  Selection selection = Selection::kBestOnVal;
  std::string baseline;    ///< --baseline, when given
  int64_t replicates = 0;  ///< bootstrap replicates of the differences
};

/// Groups `runs` by their configuration without seed and thread keys. Row labels are the
/// keys that differ between groups: the experiment name, plus any key that still differs
/// between groups of one name. Throws when the runs are of different datasets
/// (dataset.plugin or dataset.root differ) or a run has no test results.
CompareTable compare_runs(const std::vector<RunRecord>& runs, Selection selection);

/// How rows are compared with a baseline.
struct PairedOptions {
  std::string baseline;       ///< an experiment name or a row label
  int64_t replicates = 2000;  ///< bootstrap replicates
  uint64_t seed = 0;          ///< of the bootstrap stream
};

/// Pairs every row with the baseline row of the same setting (the baseline rows that agree
/// with it on the label keys in which baseline rows differ), pairs their runs by
/// (dataset.seed, experiment.seed), reads the runs' predictions files, and fills each row's
/// paired differences (top-1, mean class recall, many, medium, few) with bootstrap intervals
/// and p-values, Holm-adjusted per metric across rows. Throws when the baseline names no row,
/// a run has no predictions file, or runs were evaluated on different test sets.
void add_paired_differences(CompareTable& table, const std::vector<RunRecord>& runs,
                            const PairedOptions& options);

/// Accuracy-type metrics in percent with two decimals, "mean ± h", h the half-width of the
/// 95 % Student-t interval over the n runs of a row; with a baseline, a column of top-1
/// differences and a table of every paired difference with Holm-adjusted p-values.
std::string to_markdown(const CompareTable& table);
/// One row per group: label, runs, <metric>_mean and <metric>_std as fractions, then
/// <metric>_n, _ci_low, _ci_high; with a baseline, d_<metric>, _low, _high, p_<metric> and
/// p_holm_<metric> for the paired metrics.
std::string to_csv(const CompareTable& table);

/// The name of a paired metric ("top1", "mean_class_recall", "many", "medium", "few").
const char* paired_metric_name(int metric);

}  // namespace tailor::host
