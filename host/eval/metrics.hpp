// host/eval/metrics.hpp - the evaluation convention: accumulate, then summarise.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
#include <vector>

namespace tailor::host {

/// Per-class results and aggregates of one evaluation pass.
struct EvalResult {
  int64_t num_samples = 0;
  double top1 = 0;               ///< micro accuracy over all samples
  double top5 = 0;               ///< 1.0 when there are at most 5 classes
  double mean_class_recall = 0;  ///< unweighted mean over classes with samples
  double mean_class_precision = 0;  ///< unweighted mean over classes with samples; a class
                                    ///< never predicted has precision 0
  double loss = 0;               ///< mean cross-entropy of the raw logits
  std::vector<int64_t> support;    ///< samples per true class
  std::vector<int64_t> correct;    ///< correct predictions per true class
  std::vector<int64_t> predicted;  ///< predictions per predicted class
  std::vector<double> recall;      ///< per class; NaN without samples
  std::vector<double> precision;   ///< per class; 0 when never predicted
};

/// Accumulates logits batch by batch (on any device) into per-class counts.
class Evaluator {
 public:
  explicit Evaluator(int64_t num_classes);
  void add(const at::Tensor& logits, const at::Tensor& targets);
  EvalResult result() const;

 private:
  int64_t num_classes_;
  at::Tensor confusion_;  // [C, C] int64, rows = true class, cols = predicted
  int64_t top5_correct_ = 0;
  double loss_sum_ = 0;
  int64_t count_ = 0;
};

}  // namespace tailor::host
