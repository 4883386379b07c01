// `tailor compare` on fixture run directories written here: intervals per cell, rows paired
// with the baseline of their own grid point, runs paired by seeds, the bootstrap's estimate,
// Holm across rows, the tables and the errors; and the sweep plan of --data-seeds.
#include "sweep/compare.hpp"
#include "eval/predictions.hpp"
#include "report/compare_report.hpp"
#include "sweep/sweep.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include <unistd.h>

namespace fs = std::filesystem;
using namespace tailor::host;
using Catch::Matchers::Contains;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("tailor-compare-" + std::to_string(::getpid()));
  TempDir() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

constexpr int kClasses = 4;
constexpr int kSamples = 40;  // sample i has class i % 4

// A finished run whose test predictions are right for the samples `right` says.
RunRecord fixture(const fs::path& dir, const std::string& name, double rho, int64_t seed,
                  int64_t data_seed, const std::function<bool(int)>& right,
                  bool predictions = true) {
  fs::create_directories(dir);
  RunRecord r;
  r.dir = dir;
  r.config = {{"experiment.name", name},
              {"experiment.seed", std::to_string(seed)},
              {"dataset.seed", std::to_string(data_seed)},
              {"dataset.plugin", "idx_lt"},
              {"dataset.imbalance_ratio", std::to_string(rho)},
              {"report.html", "true"}};
  SampleOutcomes s;
  int correct = 0;
  std::vector<int> hits(kClasses, 0);
  for (int i = 0; i < kSamples; ++i) {
    s.label.push_back(i % kClasses);
    s.predicted.push_back(right(i) ? i % kClasses : (i + 1) % kClasses);
    s.max_prob.push_back(0.8f);
    s.true_prob.push_back(right(i) ? 0.8f : 0.1f);
    correct += right(i) ? 1 : 0;
    hits[i % kClasses] += right(i) ? 1 : 0;
  }
  if (predictions) write_predictions(dir / "predictions_test_best.bin", s, kClasses, 2);
  std::ofstream pc(dir / "per_class.csv");
  pc << "class,name,train_count,shot,test_support,last_recall,last_precision,best_val_recall,"
        "best_val_precision\n";
  const char* shots[] = {"many", "many", "medium", "few"};
  const int counts[] = {500, 200, 50, 5};
  for (int c = 0; c < kClasses; ++c)
    pc << c << ",c" << c << "," << counts[c] << "," << shots[c] << ",10,0.5,0.5," << hits[c] / 10.0
       << ",0.5\n";
  const double top1 = static_cast<double>(correct) / kSamples;
  auto group = [](double acc) { return nlohmann::json{{"classes", 1}, {"accuracy", acc}}; };
  r.summary = {{"best_on_val",
                {{"epoch", 2},
                 {"test",
                  {{"top1", top1},
                   {"mean_class_recall", top1},
                   {"ece", 0.1},
                   {"many", group(0.5)},
                   {"medium", group(0.5)},
                   {"few", group(0.5)}}}}}};
  return r;
}

}  // namespace

TEST_CASE("compare: intervals, paired differences per grid point, Holm", "[compare]") {
  TempDir tmp;
  std::vector<RunRecord> runs;
  // Two settings (rho 10, 100) x three methods x seeds {0, 1} x data seeds {0, 1}.
  for (double rho : {10.0, 100.0})
    for (int64_t d : {0, 1})
      for (int64_t seed : {0, 1}) {
        const std::string tag = std::to_string(static_cast<int>(rho)) + "_" + std::to_string(d) +
                                "_" + std::to_string(seed);
        const int shift = static_cast<int>(seed + 2 * d);
        runs.push_back(fixture(tmp.path / ("ce_" + tag), "ce", rho, seed, d,
                               [&](int i) { return (i + shift) % 2 == 0; }));
        runs.push_back(fixture(tmp.path / ("good_" + tag), "good", rho, seed, d,
                               [&](int i) { return (i + shift) % 8 != 0; }));
        runs.push_back(fixture(tmp.path / ("same_" + tag), "same", rho, seed, d,
                               [&](int i) { return (i + shift) % 2 == 0; }));
      }
  CompareTable t = compare_runs(runs, Selection::kBestOnVal);
  REQUIRE(t.rows.size() == 6);
  CHECK(t.label_keys == std::vector<std::string>{"experiment.name", "dataset.imbalance_ratio"});
  for (const auto& row : t.rows) {
    CHECK(row.runs.size() == 4);  // dataset.seed and experiment.seed are repetitions
    CHECK(row.subsamples == 2);
    CHECK(row.interval[0].n == 4);
  }
  // ce: top-1 is 0.5 in every run; good: 0.875.
  CHECK(t.rows[0].interval[0].mean == Approx(0.5));
  CHECK(t.rows[0].interval[0].sd == 0.0);
  CHECK(t.rows[1].interval[0].mean == Approx(0.875));

  add_paired_differences(t, runs, {"ce", 400, 0});
  for (const auto& row : t.rows) {
    if (row.config.at("experiment.name") == "ce") {
      CHECK(row.is_baseline);
      CHECK_FALSE(row.paired);
      continue;
    }
    INFO(row.label);
    REQUIRE(row.paired);
    // Paired with the ce row of the same imbalance ratio, over all four seed pairs.
    CHECK(row.baseline ==
          "ce, dataset.imbalance_ratio=" + row.config.at("dataset.imbalance_ratio"));
    CHECK(row.difference[kTop1].pairs == 4);
    if (row.config.at("experiment.name") == "good") {
      CHECK(row.difference[kTop1].estimate == Approx(0.375));
      CHECK(row.difference[kTop1].low > 0);
      CHECK(row.difference[kTop1].p_holm < 0.05);
      CHECK(row.difference[kTop1].p_holm >= row.difference[kTop1].p);
    } else {
      CHECK(row.difference[kTop1].estimate == 0.0);
      CHECK(row.difference[kTop1].p == 1.0);
      CHECK(row.difference[kTop1].p_holm == 1.0);
    }
  }
  const std::string md = to_markdown(t);
  CHECK_THAT(md, Contains("| Δ top-1 vs ce |"));
  CHECK_THAT(md, Contains("| ce, dataset.imbalance_ratio=10.000000 | 4 | 50.00 ± 0.00 |"));
  CHECK_THAT(md, Contains("Paired differences to ce"));
  CHECK_THAT(md, Contains("| good, dataset.imbalance_ratio=100.000000 | 4 | +37.50 ["));
  CHECK_THAT(md, Contains("Where the spread of top-1 comes from"));
  const std::string csv = to_csv(t);
  CHECK_THAT(csv, Contains(",d_top1,d_top1_low,d_top1_high,p_top1,p_holm_top1,"));
  const std::string html = render_compare_report(t, runs);
  CHECK(html.find("http") == std::string::npos);
  CHECK(html.find("<script") == std::string::npos);
  CHECK_THAT(html, Contains("Per-class recall differences to ce"));
  // One per-class difference chart per non-baseline row, against its own setting's baseline.
  CHECK_THAT(html, Contains("good, dataset.imbalance_ratio=100.000000 − ce, "
                            "dataset.imbalance_ratio=100.000000"));
  CHECK_THAT(html, Contains("same, dataset.imbalance_ratio=10.000000 − ce, "
                            "dataset.imbalance_ratio=10.000000"));
  // good's +37.5 points are significant after Holm and marked so; same's 0 is not.
  CHECK_THAT(html, Contains("class=\"sig\""));
  // Bars with interval whiskers: six metrics x six rows.
  size_t bars = 0, whiskers = 0;
  for (size_t p = html.find("class=\"bar\""); p != std::string::npos;
       p = html.find("class=\"bar\"", p + 1))
    ++bars;
  for (size_t p = html.find("class=\"errorbar\""); p != std::string::npos;
       p = html.find("class=\"errorbar\"", p + 1))
    ++whiskers;
  CHECK(bars == 6 * 6);
  CHECK(whiskers >= 6 * 6);
}

TEST_CASE("compare --baseline refuses what it cannot pair", "[compare]") {
  TempDir tmp;
  std::vector<RunRecord> runs = {
      fixture(tmp.path / "a", "ce", 10, 0, 0, [](int i) { return i % 2 == 0; }),
      fixture(
          tmp.path / "b", "focal", 10, 0, 0, [](int i) { return i % 3 == 0; }, false)};
  CompareTable t = compare_runs(runs, Selection::kBestOnVal);
  CHECK_THROWS_WITH(add_paired_differences(t, runs, {"cross_entropy", 100, 0}),
                    Contains("--baseline cross_entropy: no row has that experiment name or label"));
  CHECK_THROWS_WITH(add_paired_differences(t, runs, {"ce", 100, 0}),
                    Contains("b/predictions_test_best.bin") && Contains("rerun"));
  // A run tested on another test set.
  std::vector<RunRecord> other = {
      runs[0], fixture(tmp.path / "c", "focal", 10, 0, 0, [](int) { return true; })};
  SampleOutcomes s;
  s.label = {1, 1};
  s.predicted = {1, 1};
  s.max_prob = s.true_prob = {1.f, 1.f};
  write_predictions(tmp.path / "c" / "predictions_test_best.bin", s, kClasses, 2);
  CompareTable t2 = compare_runs(other, Selection::kBestOnVal);
  CHECK_THROWS_WITH(add_paired_differences(t2, other, {"ce", 100, 0}),
                    Contains("different test sets"));
}

TEST_CASE("sweep plan: --data-seeds varies dataset.seed under each seed", "[compare][sweep]") {
  const std::vector<fs::path> files = {"exp/a.toml"};
  const auto plain = plan_sweep(files, {}, {}, 2, {5});
  REQUIRE(plain.size() == 2);
  CHECK(plain[1].id == "a/seed6");
  CHECK(plain[1].data_seed == -1);
  const auto runs = plan_sweep(files, {parse_grid_axis("loss.gamma=1,2")}, {}, 2, {5}, 3, {10});
  REQUIRE(runs.size() == 2 * 3 * 2);
  CHECK(runs[0].id == "a/loss.gamma=1/data_seed10/seed5");
  CHECK(runs[3].id == "a/loss.gamma=1/data_seed11/seed6");
  CHECK(runs[11].id == "a/loss.gamma=2/data_seed12/seed6");
  CHECK(runs[3].overrides ==
        std::vector<std::string>{"loss.gamma=1", "dataset.seed=11", "experiment.seed=6"});
}
