// host/sweep/compare.cpp - grouping runs into rows, intervals, paired differences, tables.
#include "sweep/compare.hpp"

#include "eval/predictions.hpp"
#include "report/run_files.hpp"
#include "sweep/flat_config.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace tailor::host {
namespace {

// Keys that change between repetitions of one configuration (the seeds of initialisation
// and of the long-tail subsample), or that do not change results.
bool ignored_key(const std::string& key) {
  static const std::set<std::string> keys = {"experiment.seed", "experiment.threads",
                                             "experiment.output_dir", "plugins.paths",
                                             "dataset.seed"};
  return keys.count(key) != 0 || key.rfind("report.", 0) == 0;
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// (dataset.seed, experiment.seed) of a run; a missing dataset.seed counts as 0.
std::pair<int64_t, int64_t> seeds_of(const RunRecord& run) {
  auto number = [&](const char* key) -> int64_t {
    auto it = run.config.find(key);
    if (it == run.config.end()) return 0;
    try {
      return std::stoll(it->second);
    } catch (const std::exception&) {
      throw std::runtime_error(run.dir.string() + "/config.resolved.toml: " + key + " = " +
                               it->second + " is not an integer");
    }
  };
  return {number("dataset.seed"), number("experiment.seed")};
}

RunRecord read_run(const fs::path& dir) {
  RunRecord r;
  r.dir = dir;
  const fs::path summary = dir / "summary.json";
  try {
    std::ifstream in(summary);
    r.summary = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw std::runtime_error(summary.string() + " is not readable JSON (" + e.what() +
                             "); rerun or remove that run");
  }
  const fs::path config = dir / "config.resolved.toml";
  if (!fs::exists(config))
    throw std::runtime_error(dir.string() +
                             " has summary.json but no config.resolved.toml; it is "
                             "not a complete run directory");
  r.config = flatten_config_file(config);
  return r;
}

void add_sweep(const fs::path& dir, std::vector<RunRecord>& out) {
  nlohmann::json plan;
  try {
    std::ifstream in(dir / "sweep.json");
    plan = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw std::runtime_error((dir / "sweep.json").string() + " is not readable JSON (" + e.what() +
                             ")");
  }
  size_t missing = 0;
  for (const auto& run : plan.value("runs", nlohmann::json::array())) {
    const fs::path r = dir / run.value("id", std::string());
    if (fs::exists(r / "summary.json"))
      out.push_back(read_run(r));
    else
      ++missing;
  }
  if (missing > 0)
    spdlog::warn(
        "{}: {} of {} runs are not finished and are left out (rerun the sweep to finish "
        "them)",
        dir.string(), missing, plan["runs"].size());
}

nlohmann::json test_of(const RunRecord& run, Selection selection) {
  const auto& s = run.summary;
  if (selection == Selection::kBestOnVal && s.contains("best_on_val") &&
      s["best_on_val"].contains("test"))
    return s["best_on_val"]["test"];
  if (s.contains("last_epoch") && s["last_epoch"].contains("test")) return s["last_epoch"]["test"];
  throw std::runtime_error(run.dir.string() +
                           "/summary.json has no test results (was the run's "
                           "dataset without a test split?)");
}

// The predictions file of the evaluation test_of() reports.
fs::path predictions_of(const RunRecord& run, Selection selection) {
  const auto& s = run.summary;
  const bool best = selection == Selection::kBestOnVal && s.contains("best_on_val") &&
                    s["best_on_val"].contains("test");
  return run.dir / (best ? "predictions_test_best.bin" : "predictions_test_last.bin");
}

// Shot group of every class (0 many, 1 medium, 2 few) from the run's per_class.csv.
std::vector<int8_t> class_groups(const RunRecord& run) {
  const auto table = read_per_class(run.dir / "per_class.csv");
  return std::vector<int8_t>(table.group.begin(), table.group.end());
}

// Metric values of one run, in compare_metrics() order; NaN where undefined (empty group).
std::vector<double> values_of(const nlohmann::json& test) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto group = [&](const char* g) {
    if (!test.contains(g) || test[g].value("classes", 0) == 0) return nan;
    return test[g].value("accuracy", nan);
  };
  return {test.value("top1", nan),
          test.value("mean_class_recall", nan),
          group("many"),
          group("medium"),
          group("few"),
          test.value("ece", nan),
          test.value("ece_ts", nan)};
}

std::string value_or_unset(const std::map<std::string, std::string>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? "(unset)" : it->second;
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

const std::vector<Metric>& compare_metrics() {
  static const std::vector<Metric> metrics = {
      {"top1", "top-1"},        {"mean_class_recall", "mean class recall"},
      {"many", "many"},         {"medium", "medium"},
      {"few", "few"},           {"ece", "ECE"},
      {"ece_ts", "ECE after T"}};
  return metrics;
}

std::vector<RunRecord> find_runs(const std::vector<fs::path>& inputs) {
  std::vector<RunRecord> runs;
  for (const auto& input : inputs) {
    if (!fs::is_directory(input))
      throw std::runtime_error(input.string() +
                               " is not a directory; give run or sweep directories");
    const size_t before = runs.size();
    if (fs::exists(input / "summary.json")) {
      runs.push_back(read_run(input));
    } else if (fs::exists(input / "sweep.json")) {
      add_sweep(input, runs);
    } else {
      std::vector<fs::path> found;
      for (const auto& entry : fs::recursive_directory_iterator(input))
        if (entry.is_regular_file() && entry.path().filename() == "summary.json")
          found.push_back(entry.path().parent_path());
      std::sort(found.begin(), found.end());
      for (const auto& dir : found) runs.push_back(read_run(dir));
    }
    if (runs.size() == before)
      throw std::runtime_error("no finished run under " + input.string() +
                               " (a finished run directory holds summary.json)");
  }
  return runs;
}

CompareTable compare_runs(const std::vector<RunRecord>& runs, Selection selection) {
  if (runs.empty()) throw std::runtime_error("nothing to compare");
  for (const auto& r : runs)
    for (const char* key : {"dataset.plugin", "dataset.root"})
      if (value_or_unset(r.config, key) != value_or_unset(runs.front().config, key))
        throw std::runtime_error(
            "the runs are of different datasets: " + runs.front().dir.string() + " has " + key +
            "=" + value_or_unset(runs.front().config, key) + " but " + r.dir.string() + " has " +
            key + "=" + value_or_unset(r.config, key) + "; compare runs of one dataset at a time");

  // Group by configuration without the ignored keys, in order of first appearance.
  std::vector<std::map<std::string, std::string>> configs;
  std::vector<std::vector<size_t>> members;
  for (size_t i = 0; i < runs.size(); ++i) {
    std::map<std::string, std::string> c;
    for (const auto& [k, v] : runs[i].config)
      if (!ignored_key(k)) c[k] = v;
    auto it = std::find(configs.begin(), configs.end(), c);
    if (it == configs.end()) {
      configs.push_back(std::move(c));
      members.emplace_back();
      it = configs.end() - 1;
    }
    members[static_cast<size_t>(it - configs.begin())].push_back(i);
  }

  // Keys that differ between groups.
  std::set<std::string> all_keys;
  for (const auto& c : configs)
    for (const auto& [k, v] : c) all_keys.insert(k);
  std::vector<std::string> differing;
  for (const auto& k : all_keys)
    for (const auto& c : configs)
      if (value_or_unset(c, k) != value_or_unset(configs.front(), k)) {
        differing.push_back(k);
        break;
      }
  CompareTable table;
  table.selection = selection;
  const std::string name_key = "experiment.name";
  if (std::find(differing.begin(), differing.end(), name_key) != differing.end()) {
    // The experiment name labels a method; add the keys that vary within one name.
    table.label_keys.push_back(name_key);
    for (const auto& k : differing) {
      if (k == name_key) continue;
      bool varies = false;
      for (size_t a = 0; a < configs.size() && !varies; ++a)
        for (size_t b = a + 1; b < configs.size() && !varies; ++b)
          varies = value_or_unset(configs[a], name_key) == value_or_unset(configs[b], name_key) &&
                   value_or_unset(configs[a], k) != value_or_unset(configs[b], k);
      if (varies) table.label_keys.push_back(k);
    }
  } else {
    table.label_keys = differing;
  }

  const size_t m = compare_metrics().size();
  for (size_t g = 0; g < configs.size(); ++g) {
    CompareRow row;
    for (const auto& k : table.label_keys) {
      if (!row.label.empty()) row.label += ", ";
      row.label +=
          k == name_key ? value_or_unset(configs[g], k) : k + "=" + value_or_unset(configs[g], k);
    }
    if (row.label.empty()) row.label = value_or_unset(configs[g], name_key);
    row.config = configs[g];
    row.members = members[g];
    std::vector<std::vector<double>> values(m);
    std::map<int64_t, std::vector<double>> top1_by_subsample;
    for (size_t i : members[g]) {
      row.runs.push_back(runs[i].dir.string());
      const auto v = values_of(test_of(runs[i], selection));
      for (size_t j = 0; j < m; ++j)
        if (!std::isnan(v[j])) values[j].push_back(v[j]);
      if (!std::isnan(v[0])) top1_by_subsample[seeds_of(runs[i]).first].push_back(v[0]);
    }
    for (size_t j = 0; j < m; ++j) {
      const Interval ci = t_interval(values[j]);
      row.interval.push_back(ci);
      row.mean.push_back(ci.mean);
      row.std.push_back(values[j].empty() ? kNaN : ci.sd);
    }
    // One-way decomposition of top-1 by subsample: between the subsample means, and pooled
    // within subsamples (those with two or more runs).
    row.subsamples = static_cast<int64_t>(top1_by_subsample.size());
    row.top1_sd_between_subsamples = row.top1_sd_within_subsample = kNaN;
    if (top1_by_subsample.size() > 1) {
      std::vector<double> means;
      double pooled = 0;
      int64_t dof = 0;
      for (const auto& [seed, x] : top1_by_subsample) {
        const Interval ci = t_interval(x);
        means.push_back(ci.mean);
        if (x.size() > 1) {
          pooled += ci.sd * ci.sd * static_cast<double>(x.size() - 1);
          dof += static_cast<int64_t>(x.size() - 1);
        }
      }
      row.top1_sd_between_subsamples = t_interval(means).sd;
      if (dof > 0) row.top1_sd_within_subsample = std::sqrt(pooled / static_cast<double>(dof));
    }
    table.rows.push_back(std::move(row));
  }
  return table;
}

const char* paired_metric_name(int metric) {
  static const char* names[kPairedMetrics] = {"top1", "mean_class_recall", "many", "medium", "few"};
  return metric >= 0 && metric < kPairedMetrics ? names[metric] : "?";
}

void add_paired_differences(CompareTable& table, const std::vector<RunRecord>& runs,
                            const PairedOptions& options) {
  const std::string name_key = "experiment.name";
  std::vector<size_t> base_rows;
  for (size_t r = 0; r < table.rows.size(); ++r)
    if (value_or_unset(table.rows[r].config, name_key) == options.baseline ||
        table.rows[r].label == options.baseline)
      base_rows.push_back(r);
  if (base_rows.empty()) {
    std::string names;
    for (const auto& row : table.rows)
      names += (names.empty() ? "" : "; ") + value_or_unset(row.config, name_key);
    throw std::runtime_error("--baseline " + options.baseline +
                             ": no row has that experiment name or label; the rows are: " + names);
  }
  table.baseline = options.baseline;
  table.replicates = options.replicates;
  // The label keys in which baseline rows differ decide which one a row is paired with.
  std::vector<std::string> match_keys;
  for (const auto& k : table.label_keys) {
    if (k == name_key) continue;
    for (size_t b : base_rows)
      if (value_or_unset(table.rows[b].config, k) !=
          value_or_unset(table.rows[base_rows.front()].config, k)) {
        match_keys.push_back(k);
        break;
      }
  }
  for (size_t b : base_rows) table.rows[b].is_baseline = true;

  // Runs' outcomes, read once each.
  std::unique_ptr<PairedBootstrap> boot;
  std::vector<int32_t> labels;
  fs::path labels_from;
  std::map<size_t, size_t> outcome_of;  // run position -> bootstrap index
  auto outcome = [&](size_t i) {
    auto it = outcome_of.find(i);
    if (it != outcome_of.end()) return it->second;
    const fs::path file = predictions_of(runs[i], table.selection);
    const Predictions p = read_predictions(file);
    if (!boot) {
      labels = p.samples.label;
      labels_from = file;
      boot = std::make_unique<PairedBootstrap>(labels, p.classes, options.replicates, options.seed);
    } else if (p.samples.label != labels) {
      throw std::runtime_error("runs were tested on different test sets: " + file.string() +
                               " and " + labels_from.string() +
                               " hold different labels; compare runs of one test split");
    }
    RunOutcome o;
    o.correct.resize(p.samples.size());
    for (size_t k = 0; k < p.samples.size(); ++k)
      o.correct[k] = p.samples.predicted[k] == p.samples.label[k] ? 1 : 0;
    o.group = class_groups(runs[i]);
    if (o.group.size() != p.classes)
      throw std::runtime_error((runs[i].dir / "per_class.csv").string() + " lists " +
                               std::to_string(o.group.size()) + " classes but " + file.string() +
                               " has " + std::to_string(p.classes));
    const size_t index = boot->add(std::move(o));
    outcome_of.emplace(i, index);
    return index;
  };

  std::vector<size_t> compared;
  std::vector<PairedBootstrap::Pairing> pairings;
  for (size_t r = 0; r < table.rows.size(); ++r) {
    CompareRow& row = table.rows[r];
    if (row.is_baseline) continue;
    std::vector<size_t> candidates;
    for (size_t b : base_rows) {
      bool same = true;
      for (const auto& k : match_keys)
        same = same && value_or_unset(table.rows[b].config, k) == value_or_unset(row.config, k);
      if (same) candidates.push_back(b);
    }
    if (candidates.size() != 1) {
      spdlog::warn("{}: {} baseline rows of '{}' match it; no paired difference", row.label,
                   candidates.size(), options.baseline);
      continue;
    }
    const CompareRow& base = table.rows[candidates.front()];
    row.baseline = base.label;
    std::map<std::pair<int64_t, int64_t>, size_t> base_by_seed;
    for (size_t i : base.members) base_by_seed[seeds_of(runs[i])] = i;
    std::vector<std::pair<std::pair<int64_t, int64_t>, size_t>> mine;
    for (size_t i : row.members) mine.emplace_back(seeds_of(runs[i]), i);
    std::sort(mine.begin(), mine.end());
    PairedBootstrap::Pairing pairing;
    for (const auto& [seeds, i] : mine) {
      auto it = base_by_seed.find(seeds);
      if (it == base_by_seed.end()) continue;
      pairing.row.push_back(outcome(i));
      pairing.baseline.push_back(outcome(it->second));
    }
    if (pairing.row.empty()) {
      spdlog::warn(
          "{}: no run shares its seeds (dataset.seed, experiment.seed) with a run of "
          "'{}'; no paired difference",
          row.label, base.label);
      continue;
    }
    compared.push_back(r);
    pairings.push_back(std::move(pairing));
  }
  if (pairings.empty()) return;
  const auto differences = boot->compare(pairings);
  for (size_t k = 0; k < compared.size(); ++k) {
    table.rows[compared[k]].paired = true;
    table.rows[compared[k]].difference = differences[k];
  }
  for (int metric = 0; metric < kPairedMetrics; ++metric) {
    std::vector<double> p;
    for (size_t r : compared) p.push_back(table.rows[r].difference[metric].p);
    const auto adjusted = holm(p);
    for (size_t k = 0; k < compared.size(); ++k)
      table.rows[compared[k]].difference[metric].p_holm = adjusted[k];
  }
}

namespace {

std::string percent(double v, bool sign = false) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(2);
  if (sign && v >= 0) out << "+";
  out << 100 * v;
  return out.str();
}

std::string escape_cell(std::string label) {
  for (size_t p = 0; (p = label.find('|', p)) != std::string::npos; p += 2)
    label.replace(p, 1, "\\|");
  return label;
}

std::string p_value(double p) {
  if (std::isnan(p)) return "–";
  std::ostringstream out;
  if (p < 0.001)
    out << "<0.001";
  else
    out << std::fixed << std::setprecision(3) << p;
  return out.str();
}

// "+2.31 [1.10, 3.52]*": the difference in points, its interval, * when Holm's p < 0.05.
std::string difference_cell(const Difference& d) {
  if (std::isnan(d.estimate)) return "–";
  std::string cell = percent(d.estimate, true);
  if (!std::isnan(d.low)) cell += " [" + percent(d.low) + ", " + percent(d.high) + "]";
  if (!std::isnan(d.p_holm) && d.p_holm < 0.05) cell += "*";
  return cell;
}

}  // namespace

std::string to_markdown(const CompareTable& table) {
  const bool paired = !table.baseline.empty();
  std::ostringstream out;
  out << "| configuration | n |";
  for (const auto& metric : compare_metrics()) out << " " << metric.title << " |";
  if (paired) out << " Δ top-1 vs " << escape_cell(table.baseline) << " |";
  out << "\n|---|---:|";
  for (size_t j = 0; j < compare_metrics().size(); ++j) out << "---:|";
  if (paired) out << "---:|";
  out << "\n";
  for (const auto& row : table.rows) {
    out << "| " << escape_cell(row.label) << " | " << row.runs.size() << " |";
    for (const auto& ci : row.interval) {
      if (std::isnan(ci.mean))
        out << " – |";
      else if (ci.n > 1)
        out << " " << percent(ci.mean) << " ± " << percent((ci.high - ci.low) / 2)
            << (ci.n != static_cast<int64_t>(row.runs.size()) ? " (n=" + std::to_string(ci.n) + ")"
                                                              : "")
            << " |";
      else
        out << " " << percent(ci.mean) << " |";
    }
    if (paired)
      out << " "
          << (row.is_baseline ? std::string("baseline")
              : row.paired    ? difference_cell(row.difference[kTop1])
                              : std::string("–"))
          << " |";
    out << "\n";
  }
  out << "\nmean ± half-width of the 95 % Student-t interval over the n runs of a row "
         "(t at n − 1 degrees of freedom, sample standard deviation); in percent.\n";

  if (paired) {
    out << "\nPaired differences to " << table.baseline
        << " (row − baseline, percentage points): runs paired by (dataset.seed, "
           "experiment.seed) and by test sample; [95 % paired bootstrap interval, "
        << table.replicates
        << " replicates]; p: two-sided bootstrap p-value, Holm-adjusted "
           "across the rows of each metric; * p < 0.05.\n\n";
    out << "| configuration | pairs |";
    for (int m = 0; m < kPairedMetrics; ++m) out << " Δ " << compare_metrics()[m].title << " | p |";
    out << "\n|---|---:|";
    for (int m = 0; m < kPairedMetrics; ++m) out << "---:|---:|";
    out << "\n";
    for (const auto& row : table.rows) {
      if (!row.paired) continue;
      out << "| " << escape_cell(row.label) << " | " << row.difference[kTop1].pairs << " |";
      for (int m = 0; m < kPairedMetrics; ++m)
        out << " " << difference_cell(row.difference[m]) << " | "
            << p_value(row.difference[m].p_holm) << " |";
      out << "\n";
    }
  }

  bool subsamples = false;
  for (const auto& row : table.rows) subsamples = subsamples || row.subsamples > 1;
  if (subsamples) {
    out << "\nWhere the spread of top-1 comes from: the standard deviation of the mean over "
           "the long-tail subsamples (dataset.seed), and the pooled standard deviation over "
           "initialisations (experiment.seed) within one subsample; in percent.\n\n"
           "| configuration | subsamples | between subsamples | within a subsample |\n"
           "|---|---:|---:|---:|\n";
    for (const auto& row : table.rows) {
      if (row.subsamples < 2) continue;
      out << "| " << escape_cell(row.label) << " | " << row.subsamples << " | "
          << percent(row.top1_sd_between_subsamples) << " | "
          << (std::isnan(row.top1_sd_within_subsample) ? std::string("–")
                                                       : percent(row.top1_sd_within_subsample))
          << " |\n";
    }
  }
  return out.str();
}

std::string to_csv(const CompareTable& table) {
  const bool paired = !table.baseline.empty();
  std::ostringstream out;
  out << "configuration,runs";
  for (const auto& metric : compare_metrics())
    out << "," << metric.name << "_mean," << metric.name << "_std";
  for (const auto& metric : compare_metrics())
    out << "," << metric.name << "_n," << metric.name << "_ci_low," << metric.name << "_ci_high";
  if (paired)
    for (int m = 0; m < kPairedMetrics; ++m) {
      const std::string n = paired_metric_name(m);
      out << ",d_" << n << ",d_" << n << "_low,d_" << n << "_high,p_" << n << ",p_holm_" << n;
    }
  out << "\n" << std::setprecision(6);
  auto number = [&](double v) {
    if (!std::isnan(v)) out << v;
  };
  for (const auto& row : table.rows) {
    out << csv_field(row.label) << "," << row.runs.size();
    for (size_t j = 0; j < row.mean.size(); ++j) {
      if (std::isnan(row.mean[j]))
        out << ",,";
      else
        out << "," << row.mean[j] << "," << row.std[j];
    }
    for (const auto& ci : row.interval) {
      out << "," << ci.n << ",";
      number(ci.low);
      out << ",";
      number(ci.high);
    }
    if (paired)
      for (int m = 0; m < kPairedMetrics; ++m) {
        const Difference& d = row.difference[m];
        for (double v : {d.estimate, d.low, d.high, d.p, d.p_holm}) {
          out << ",";
          if (row.paired) number(v);
        }
      }
    out << "\n";
  }
  return out.str();
}

}  // namespace tailor::host
