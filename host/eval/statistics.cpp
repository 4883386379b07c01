// host/eval/statistics.cpp - t intervals, the paired bootstrap and Holm's correction.
#include "eval/statistics.hpp"

#include <ATen/Parallel.h>
#include <boost/math/distributions/students_t.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <stdexcept>
#include <string>

namespace tailor::host {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

double t_quantile(double p, double dof) {
  return boost::math::quantile(boost::math::students_t_distribution<double>(dof), p);
}

Interval t_interval(const std::vector<double>& values, double level) {
  Interval r;
  r.n = static_cast<int64_t>(values.size());
  if (values.empty()) {
    r.mean = r.sd = r.low = r.high = kNaN;
    return r;
  }
  double sum = 0;
  for (double v : values) sum += v;
  r.mean = sum / static_cast<double>(r.n);
  if (r.n < 2) {
    r.sd = 0;
    r.low = r.high = kNaN;
    return r;
  }
  double ss = 0;
  for (double v : values) ss += (v - r.mean) * (v - r.mean);
  r.sd = std::sqrt(ss / static_cast<double>(r.n - 1));
  const double half = t_quantile(0.5 + level / 2, static_cast<double>(r.n - 1)) * r.sd /
                      std::sqrt(static_cast<double>(r.n));
  r.low = r.mean - half;
  r.high = r.mean + half;
  return r;
}

double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return kNaN;
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return sorted[lo] + frac * (sorted[hi] - sorted[lo]);
}

std::vector<double> holm(const std::vector<double>& p) {
  std::vector<size_t> tests;
  for (size_t i = 0; i < p.size(); ++i)
    if (!std::isnan(p[i])) tests.push_back(i);
  std::stable_sort(tests.begin(), tests.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  std::vector<double> adjusted(p.size(), kNaN);
  const double m = static_cast<double>(tests.size());
  double running = 0;
  for (size_t k = 0; k < tests.size(); ++k) {
    running = std::max(running, std::min(1.0, (m - static_cast<double>(k)) * p[tests[k]]));
    adjusted[tests[k]] = running;
  }
  return adjusted;
}

uint64_t SplitMix64::next() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t SplitMix64::index(uint64_t n) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
}

PairedBootstrap::PairedBootstrap(std::vector<int32_t> labels, int64_t classes, int64_t replicates,
                                 uint64_t seed, double level)
    : classes_(classes), replicates_(replicates), seed_(seed), level_(level) {
  if (classes < 1) throw std::invalid_argument("paired bootstrap: no classes");
  if (replicates < 1) throw std::invalid_argument("paired bootstrap: replicates must be >= 1");
  order_.resize(labels.size());
  std::iota(order_.begin(), order_.end(), size_t{0});
  std::stable_sort(order_.begin(), order_.end(),
                   [&](size_t a, size_t b) { return labels[a] < labels[b]; });
  labels_.resize(labels.size());
  for (size_t j = 0; j < order_.size(); ++j) labels_[j] = labels[order_[j]];
  class_begin_.assign(static_cast<size_t>(classes) + 1, 0);
  for (int32_t y : labels_) {
    if (y < 0 || y >= classes)
      throw std::invalid_argument("paired bootstrap: label " + std::to_string(y) + " outside [0, " +
                                  std::to_string(classes) + ")");
    ++class_begin_[static_cast<size_t>(y) + 1];
  }
  std::partial_sum(class_begin_.begin(), class_begin_.end(), class_begin_.begin());
}

size_t PairedBootstrap::add(RunOutcome run) {
  if (run.correct.size() != labels_.size() || static_cast<int64_t>(run.group.size()) != classes_)
    throw std::invalid_argument(
        "paired bootstrap: a run has " + std::to_string(run.correct.size()) + " samples and " +
        std::to_string(run.group.size()) + " class groups, expected " +
        std::to_string(labels_.size()) + " and " + std::to_string(classes_));
  RunOutcome sorted;
  sorted.group = std::move(run.group);
  sorted.correct.resize(run.correct.size());
  for (size_t j = 0; j < order_.size(); ++j) sorted.correct[j] = run.correct[order_[j]];
  runs_.push_back(std::move(sorted));
  return runs_.size() - 1;
}

std::array<double, kPairedMetrics> PairedBootstrap::sorted_metrics(
    size_t run, const std::vector<uint32_t>& w, const std::vector<uint64_t>& support) const {
  const RunOutcome& r = runs_.at(run);
  uint64_t total = 0, correct = 0;
  double recall_sum = 0;
  int64_t measured = 0;
  double group_sum[3] = {0, 0, 0};
  int64_t group_measured[3] = {0, 0, 0};
  for (int64_t c = 0; c < classes_; ++c) {
    const size_t b = class_begin_[c], e = class_begin_[c + 1];
    uint64_t hits = 0;
    for (size_t j = b; j < e; ++j) hits += w[j] * static_cast<uint32_t>(r.correct[j]);
    correct += hits;
    total += support[c];
    if (support[c] == 0) continue;
    const double recall = static_cast<double>(hits) / static_cast<double>(support[c]);
    recall_sum += recall;
    ++measured;
    const int g = r.group[c];
    if (g >= 0 && g < 3) {
      group_sum[g] += recall;
      ++group_measured[g];
    }
  }
  std::array<double, kPairedMetrics> m;
  m[kTop1] = total > 0 ? static_cast<double>(correct) / static_cast<double>(total) : kNaN;
  m[kMeanClassRecall] = measured > 0 ? recall_sum / static_cast<double>(measured) : kNaN;
  for (int g = 0; g < 3; ++g)
    m[kMany + g] =
        group_measured[g] > 0 ? group_sum[g] / static_cast<double>(group_measured[g]) : kNaN;
  return m;
}

std::array<double, kPairedMetrics> PairedBootstrap::metrics(
    size_t run, const std::vector<uint32_t>& weights) const {
  if (weights.size() != labels_.size())
    throw std::invalid_argument("paired bootstrap: weights of the wrong length");
  std::vector<uint32_t> w(weights.size());
  for (size_t j = 0; j < order_.size(); ++j) w[j] = weights[order_[j]];
  std::vector<uint64_t> support(static_cast<size_t>(classes_), 0);
  for (int64_t c = 0; c < classes_; ++c)
    for (size_t j = class_begin_[c]; j < class_begin_[c + 1]; ++j) support[c] += w[j];
  return sorted_metrics(run, w, support);
}

std::vector<std::array<Difference, kPairedMetrics>> PairedBootstrap::compare(
    const std::vector<Pairing>& pairings) const {
  const size_t n = labels_.size();
  std::vector<std::array<Difference, kPairedMetrics>> out(pairings.size());
  // Estimates on the test set itself.
  const std::vector<uint32_t> ones(n, 1);
  std::map<size_t, std::array<double, kPairedMetrics>> base;
  auto observed = [&](size_t run) -> const std::array<double, kPairedMetrics>& {
    auto it = base.find(run);
    if (it == base.end()) it = base.emplace(run, metrics(run, ones)).first;
    return it->second;
  };
  // Mean over the given pair positions of (row - baseline), skipping undefined pairs.
  auto mean_difference = [](const std::vector<size_t>& picks, const auto& row_metric,
                            const auto& base_metric, int m, int64_t* used) {
    double sum = 0;
    int64_t count = 0;
    for (size_t k : picks) {
      const double a = row_metric(k)[m], b = base_metric(k)[m];
      if (std::isnan(a) || std::isnan(b)) continue;
      sum += a - b;
      ++count;
    }
    if (used != nullptr) *used = count;
    return count > 0 ? sum / static_cast<double>(count) : kNaN;
  };
  for (size_t r = 0; r < pairings.size(); ++r) {
    const auto& pr = pairings[r];
    if (pr.row.size() != pr.baseline.size())
      throw std::invalid_argument("paired bootstrap: unequal pair lists");
    std::vector<size_t> all(pr.row.size());
    std::iota(all.begin(), all.end(), size_t{0});
    for (int m = 0; m < kPairedMetrics; ++m) {
      auto& d = out[r][m];
      d.estimate = mean_difference(
          all, [&](size_t k) { return observed(pr.row[k]); },
          [&](size_t k) { return observed(pr.baseline[k]); }, m, &d.pairs);
      d.low = d.high = d.p = d.p_holm = kNaN;
    }
  }

  // Replicates, one pass per distinct number of pairs.
  std::map<size_t, std::vector<size_t>> by_pairs;
  for (size_t r = 0; r < pairings.size(); ++r)
    if (!pairings[r].row.empty()) by_pairs[pairings[r].row.size()].push_back(r);
  for (const auto& [pairs, rows] : by_pairs) {
    std::vector<size_t> runs;
    for (size_t r : rows) {
      runs.insert(runs.end(), pairings[r].row.begin(), pairings[r].row.end());
      runs.insert(runs.end(), pairings[r].baseline.begin(), pairings[r].baseline.end());
    }
    std::sort(runs.begin(), runs.end());
    runs.erase(std::unique(runs.begin(), runs.end()), runs.end());
    std::vector<std::array<std::vector<double>, kPairedMetrics>> stats(rows.size());
    SplitMix64 rng(seed_);
    std::vector<size_t> picks(pairs);
    std::vector<uint32_t> w(n), w_sorted(n);
    std::vector<uint64_t> support(static_cast<size_t>(classes_));
    std::map<size_t, size_t> slot;  // run -> position in `runs`
    for (size_t k = 0; k < runs.size(); ++k) slot[runs[k]] = k;
    std::vector<std::array<double, kPairedMetrics>> replicate(runs.size());
    for (int64_t b = 0; b < replicates_; ++b) {
      for (auto& k : picks) k = rng.index(pairs);
      std::fill(w.begin(), w.end(), 0u);
      for (size_t i = 0; i < n; ++i) ++w[rng.index(n)];
      for (size_t j = 0; j < n; ++j) w_sorted[j] = w[order_[j]];
      for (int64_t c = 0; c < classes_; ++c) {
        uint64_t s = 0;
        for (size_t j = class_begin_[c]; j < class_begin_[c + 1]; ++j) s += w_sorted[j];
        support[c] = s;
      }
      // The runs' metrics are independent of each other: compute them on every core.
      at::parallel_for(0, static_cast<int64_t>(runs.size()), 1, [&](int64_t begin, int64_t end) {
        for (int64_t k = begin; k < end; ++k)
          replicate[static_cast<size_t>(k)] =
              sorted_metrics(runs[static_cast<size_t>(k)], w_sorted, support);
      });
      for (size_t i = 0; i < rows.size(); ++i) {
        const auto& pr = pairings[rows[i]];
        for (int m = 0; m < kPairedMetrics; ++m) {
          const double d = mean_difference(
              picks, [&](size_t k) { return replicate[slot.at(pr.row[k])]; },
              [&](size_t k) { return replicate[slot.at(pr.baseline[k])]; }, m, nullptr);
          if (!std::isnan(d)) stats[i][m].push_back(d);
        }
      }
    }
    const double alpha = 1 - level_;
    for (size_t i = 0; i < rows.size(); ++i) {
      for (int m = 0; m < kPairedMetrics; ++m) {
        auto& d = out[rows[i]][m];
        auto& v = stats[i][m];
        if (std::isnan(d.estimate) || v.empty()) continue;
        int64_t extreme = 0;
        for (double x : v) extreme += std::abs(x - d.estimate) >= std::abs(d.estimate) ? 1 : 0;
        d.p = static_cast<double>(1 + extreme) / static_cast<double>(v.size() + 1);
        std::sort(v.begin(), v.end());
        d.low = quantile(v, alpha / 2);
        d.high = quantile(v, 1 - alpha / 2);
      }
    }
  }
  return out;
}

}  // namespace tailor::host
