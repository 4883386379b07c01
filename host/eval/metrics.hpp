// host/eval/metrics.hpp - the evaluation convention: accumulate, then summarise.
//
// One declared convention for every run (DESIGN.md "Evaluation"): top-1/top-5 over samples,
// per-class recall and precision, their unweighted means over classes with samples (a class
// never predicted has precision 0), many/medium/few groups by train count (more than
// many_threshold, fewer than few_threshold, the rest medium) each the mean recall of its
// classes (an empty group reports 0 with 0 classes), and the expected calibration error over
// equal-width confidence bins, overall and per group (group of the true class). Optionally,
// CDB's majority/minority split on EGTEA: classes with more / fewer train samples than a
// threshold (a class exactly at it is in neither), each with its mean recall and mean
// precision over the group's classes with samples.
//
// Post-hoc temperature scaling (Guo et al. 2017): a val pass can fit the temperature T that
// minimises the mean NLL of softmax(logits / T) — over a log-spaced grid of candidates,
// refined by the parabola through the best grid point and its neighbours in log T — and a
// test pass given that T adds the ECE of softmax(logits / T), overall and per group. T never
// changes a prediction, only the confidences.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace tailor::host {

/// One shot group's results.
/// An empty group (no class with samples, e.g. no few-shot class at imbalance ratio 10) has
/// NaN accuracy and ECE: absent, written as null in JSON and "–" in logs, never 0.
struct GroupResult {
  int64_t classes = 0;  ///< classes in the group (train-count rule)
  int64_t samples = 0;  ///< evaluated samples whose true class is in the group
  double accuracy = 0;  ///< mean per-class recall over the group's classes with samples
  double ece = 0;       ///< calibration error over the group's samples
  double ece_ts = std::numeric_limits<double>::quiet_NaN();  ///< after temperature scaling
};

/// A group's accuracy in percent with one decimal, or "–" for an empty group.
std::string group_percent(const GroupResult& g);

/// The majority or minority group of the threshold split.
struct ThresholdGroupResult {
  int64_t classes = 0;   ///< classes in the group (train-count rule)
  int64_t samples = 0;   ///< evaluated samples whose true class is in the group
  double recall = 0;     ///< mean per-class recall over the group's classes with samples
  double precision = 0;  ///< mean per-class precision over the same classes (0 if never predicted)
};

/// Per-sample outcomes of one evaluation pass, in split order (the predictions files).
struct SampleOutcomes {
  std::vector<int32_t> label;      ///< true class
  std::vector<int32_t> predicted;  ///< argmax of the evaluated logits
  std::vector<float> max_prob;     ///< softmax probability of the predicted class
  std::vector<float> true_prob;    ///< softmax probability of the true class
  size_t size() const { return label.size(); }
};

/// Per-class results and aggregates of one evaluation pass.
struct EvalResult {
  int64_t num_samples = 0;
  double top1 = 0;                  ///< micro accuracy over all samples
  double top5 = 0;                  ///< 1.0 when there are at most 5 classes
  double mean_class_recall = 0;     ///< unweighted mean over classes with samples
  double mean_class_precision = 0;  ///< unweighted mean over classes with samples
  double loss = 0;                  ///< mean cross-entropy of the evaluated logits
  double ece = 0;                   ///< expected calibration error, all samples
  /// Val pass with fit_temperature(): the fitted T. Test pass with set_temperature(): the T
  /// applied. NaN otherwise (then ece_ts is NaN too).
  double temperature = std::numeric_limits<double>::quiet_NaN();
  double ece_ts = std::numeric_limits<double>::quiet_NaN();  ///< ECE of softmax(logits / T)
  GroupResult many, medium, few;
  int64_t majority_threshold = 0;  ///< 0: no majority/minority split
  ThresholdGroupResult majority;   ///< train count > majority_threshold
  ThresholdGroupResult minority;   ///< train count < majority_threshold
  std::vector<int64_t> support;    ///< samples per true class
  std::vector<int64_t> correct;    ///< correct predictions per true class
  std::vector<int64_t> predicted;  ///< predictions per predicted class
  std::vector<double> recall;      ///< per class; NaN without samples
  std::vector<double> precision;   ///< per class; 0 when never predicted
  at::Tensor confusion;            ///< [C, C] int64, rows true class, columns prediction
  SampleOutcomes samples;          ///< empty unless the Evaluator kept them
};

/// Shot-group rule: 0 many, 1 medium, 2 few.
int shot_group(int64_t train_count, int64_t many_threshold, int64_t few_threshold);

/// Accumulates logits batch by batch (on any device) into counts and calibration bins.
class Evaluator {
 public:
  /// `majority_threshold` > 0 adds the majority/minority groups.
  Evaluator(std::vector<int64_t> train_counts, int64_t many_threshold, int64_t few_threshold,
            int64_t ece_bins, int64_t majority_threshold = 0);
  void add(const at::Tensor& logits, const at::Tensor& targets);
  /// Sums the accumulated counts, calibration bins and loss with other evaluators (the ranks
  /// of a data-parallel run, each over its shard of the split): `all_reduce_sum` sums each
  /// given CPU tensor across them in place. Afterwards result() is that of the whole split.
  void reduce(const std::function<void(std::vector<at::Tensor>)>& all_reduce_sum);
  /// Also keep every sample's outcome (EvalResult::samples); call before the first add().
  void keep_samples() { keep_samples_ = true; }
  /// Fit the temperature on this pass (EvalResult::temperature); call before the first add().
  void fit_temperature();
  /// Also measure the ECE at temperature `t` > 0 (EvalResult::ece_ts); before the first add().
  void set_temperature(double t);
  EvalResult result() const;

  /// The candidate temperatures fit_temperature() scores: exp of an even grid over
  /// [log 0.05, log 20].
  static std::vector<double> temperature_grid();

 private:
  void bin(at::Tensor& bins, const at::Tensor& confidence, const at::Tensor& pred,
           const at::Tensor& targets) const;
  double fitted_temperature() const;

  bool keep_samples_ = false;
  at::Tensor nll_grid_;     // [G] summed NLL per candidate temperature (fit_temperature)
  double temperature_ = 0;  // > 0: set_temperature
  at::Tensor bins_ts_;      // like bins_, at temperature_
  SampleOutcomes samples_;
  int64_t num_classes_;
  std::vector<int64_t> train_counts_;
  int64_t many_, few_;
  int64_t majority_;
  at::Tensor confusion_;  // [C, C] int64
  at::Tensor bins_;       // [4 groups (all, many, medium, few), B, 3 (count, conf, correct)]
  int64_t top5_correct_ = 0;
  double loss_sum_ = 0;
  int64_t count_ = 0;
};

}  // namespace tailor::host
