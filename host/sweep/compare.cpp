// host/sweep/compare.cpp
#include "sweep/compare.hpp"

#include "sweep/flat_config.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <limits>
#include <set>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace tailor::host {
namespace {

// Keys that change between repetitions of one configuration, or that do not change results.
bool ignored_key(const std::string& key) {
  static const std::set<std::string> keys = {"experiment.seed", "experiment.threads",
                                             "experiment.output_dir", "plugins.paths"};
  return keys.count(key) != 0;
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
          test.value("ece", nan)};
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
      {"top1", "top-1"}, {"mean_class_recall", "mean class recall"},
      {"many", "many"},  {"medium", "medium"},
      {"few", "few"},    {"ece", "ECE"}};
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
    std::vector<std::vector<double>> values(m);
    for (size_t i : members[g]) {
      row.runs.push_back(runs[i].dir.string());
      const auto v = values_of(test_of(runs[i], selection));
      for (size_t j = 0; j < m; ++j)
        if (!std::isnan(v[j])) values[j].push_back(v[j]);
    }
    for (size_t j = 0; j < m; ++j) {
      const auto& x = values[j];
      double mean = std::numeric_limits<double>::quiet_NaN(), sd = mean;
      if (!x.empty()) {
        mean = 0;
        for (double v : x) mean += v;
        mean /= static_cast<double>(x.size());
        sd = 0;
        for (double v : x) sd += (v - mean) * (v - mean);
        sd = x.size() > 1 ? std::sqrt(sd / static_cast<double>(x.size() - 1)) : 0.0;
      }
      row.mean.push_back(mean);
      row.std.push_back(sd);
    }
    table.rows.push_back(std::move(row));
  }
  return table;
}

std::string to_markdown(const CompareTable& table) {
  std::ostringstream out;
  out << "| configuration | runs |";
  for (const auto& metric : compare_metrics()) out << " " << metric.title << " |";
  out << "\n|---|---:|";
  for (size_t j = 0; j < compare_metrics().size(); ++j) out << "---:|";
  out << "\n";
  out << std::fixed << std::setprecision(2);
  for (const auto& row : table.rows) {
    std::string label = row.label;
    for (size_t p = 0; (p = label.find('|', p)) != std::string::npos; p += 2)
      label.replace(p, 1, "\\|");
    out << "| " << label << " | " << row.runs.size() << " |";
    for (size_t j = 0; j < row.mean.size(); ++j) {
      if (std::isnan(row.mean[j]))
        out << " – |";
      else if (row.runs.size() > 1)
        out << " " << 100 * row.mean[j] << " ± " << 100 * row.std[j] << " |";
      else
        out << " " << 100 * row.mean[j] << " |";
    }
    out << "\n";
  }
  return out.str();
}

std::string to_csv(const CompareTable& table) {
  std::ostringstream out;
  out << "configuration,runs";
  for (const auto& metric : compare_metrics())
    out << "," << metric.name << "_mean," << metric.name << "_std";
  out << "\n" << std::setprecision(6);
  for (const auto& row : table.rows) {
    out << csv_field(row.label) << "," << row.runs.size();
    for (size_t j = 0; j < row.mean.size(); ++j) {
      if (std::isnan(row.mean[j]))
        out << ",,";
      else
        out << "," << row.mean[j] << "," << row.std[j];
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace tailor::host
