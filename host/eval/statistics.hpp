// host/eval/statistics.hpp - the statistics of comparisons (docs/statistics.md): Student-t
// intervals over seeds, a paired bootstrap over seeds and test samples, Holm's correction.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tailor::host {

/// Mean and two-sided Student-t confidence interval of a sample.
struct Interval {
  int64_t n = 0;    ///< values
  double mean = 0;  ///< NaN when n = 0
  double sd = 0;    ///< sample standard deviation (n - 1); 0 when n = 1
  double low = 0;   ///< mean - t_{(1+level)/2, n-1} sd / sqrt(n); NaN when n < 2
  double high = 0;  ///< mean + the same
};

/// The interval of the mean of `values` at confidence `level` (0.95: 95 %).
Interval t_interval(const std::vector<double>& values, double level = 0.95);

/// Quantile `p` of Student's t distribution with `dof` degrees of freedom.
double t_quantile(double p, double dof);

/// Quantile `q` in [0, 1] of `sorted` (ascending) with linear interpolation between order
/// statistics: position q (n - 1) (Hyndman & Fan type 7, NumPy's default). NaN when empty.
double quantile(const std::vector<double>& sorted, double q);

/// Holm's step-down adjustment of `p` (one family); NaN entries are not tests and stay NaN.
std::vector<double> holm(const std::vector<double>& p);

/// splitmix64 (Steele, Lea & Flood 2014): the bootstrap's random stream, simple enough to
/// reproduce in any language (tests/golden/statistics.py does).
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next();
  /// floor(next() * n / 2^64): an index in [0, n).
  uint64_t index(uint64_t n);

 private:
  uint64_t state_;
};

/// Metrics the paired bootstrap compares, in this order.
enum PairedMetric { kTop1 = 0, kMeanClassRecall, kMany, kMedium, kFew, kPairedMetrics };

/// A paired difference: estimate, bootstrap interval and p-value.
struct Difference {
  int64_t pairs = 0;         ///< seed pairs it is computed over
  double estimate = 0;       ///< mean over pairs of (row - baseline); NaN when undefined
  double low = 0, high = 0;  ///< percentile bootstrap interval
  double p = 0;              ///< two-sided bootstrap p-value of "no difference"
  double p_holm = 0;  ///< after Holm's correction across the compared rows (set by the caller)
};

/// The test-set outcome of one run: whether each test sample was classified correctly, and
/// each class's shot group (0 many, 1 medium, 2 few). Every run of one bootstrap shares the
/// test set (the same labels in the same order).
struct RunOutcome {
  std::vector<uint8_t> correct;  ///< per test sample, 0 or 1
  std::vector<int8_t> group;     ///< per class
};

/// Paired bootstrap over seeds and test samples (docs/statistics.md). Replicate b draws
/// `pairs` seed-pair positions with replacement and then N test samples with replacement
/// (one stream, restarted from `seed` for every compared row, so a row's result does not
/// depend on the other rows); the statistic is the mean over the drawn pairs of the metric of
/// the row's run minus the baseline's run, each computed on the drawn samples.
class PairedBootstrap {
 public:
  /// `labels`: the test set's true classes, in file order.
  PairedBootstrap(std::vector<int32_t> labels, int64_t classes, int64_t replicates, uint64_t seed,
                  double level = 0.95);
  /// Adds one run's outcome; returns its index.
  size_t add(RunOutcome run);
  /// One compared row: run indices paired by seed, row[k] with baseline[k].
  struct Pairing {
    std::vector<size_t> row, baseline;
  };
  /// The differences row - baseline of every pairing (p_holm left at NaN). Rows with the
  /// same number of pairs share their draws, which is what restarting the stream per row
  /// gives; the runs' metrics are computed once per replicate.
  std::vector<std::array<Difference, kPairedMetrics>> compare(
      const std::vector<Pairing>& pairings) const;
  /// The metrics of run `run` on the test set with sample multiplicities `weights` (all 1:
  /// the test set itself); NaN for an empty group.
  std::array<double, kPairedMetrics> metrics(size_t run,
                                             const std::vector<uint32_t>& weights) const;
  size_t samples() const { return labels_.size(); }
  int64_t replicates() const { return replicates_; }

 private:
  // metrics() with weights in class-sorted order and the per-class weight sums.
  std::array<double, kPairedMetrics> sorted_metrics(size_t run, const std::vector<uint32_t>& w,
                                                    const std::vector<uint64_t>& support) const;

  std::vector<int32_t> labels_;      // sorted by class
  std::vector<size_t> order_;        // file position of each sorted sample
  std::vector<size_t> class_begin_;  // [classes + 1] segments of the sorted samples
  int64_t classes_;
  int64_t replicates_;
  uint64_t seed_;
  double level_;
  std::vector<RunOutcome> runs_;  // correct in sorted order
};

}  // namespace tailor::host
