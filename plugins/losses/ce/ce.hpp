// ce: softmax cross-entropy with optional per-class weights and label smoothing.
#pragma once

#include <tailor/components.hpp>
#include <tailor/constant.hpp>
#include <tailor/options.hpp>

#include <vector>

namespace tailor::plugins {

/// Cross-entropy exactly as torch.nn.functional.cross_entropy(weight=w, label_smoothing=eps):
/// l_i = (1-eps) w_{y_i} (-log p_{i,y_i}) + (eps/C) sum_c w_c (-log p_{i,c}).
class CrossEntropy final : public Loss {
 public:
  struct Options {
    enum class Reduction { kMean, kBatchMean, kSum };
    static constexpr auto kReductions = choice<Reduction>({{"mean", Reduction::kMean},
                                                           {"batch_mean", Reduction::kBatchMean},
                                                           {"sum", Reduction::kSum}});

    std::vector<double> class_weights;  // empty: uniform
    double label_smoothing = 0.0;
    Reduction reduction = Reduction::kMean;

    template <class V>
    void visit(V& v) {
      v("class_weights", class_weights,
        "Per-class weights w_c, one per class; empty means uniform.", at_least(0.0));
      v("label_smoothing", label_smoothing, "Label smoothing epsilon.",
        range(0.0, 1.0, /*hi_open=*/true));
      v("reduction", reduction,
        "mean: sum_i l_i / sum_i w_{y_i} (PyTorch's weighted mean); batch_mean: "
        "sum_i l_i / N; sum: sum_i l_i.",
        kReductions);
    }
  };

  CrossEntropy(const Options& options, const LossContext& context);
  /// Mixed batches: lambda l(y_a) + (1 - lambda) l(y_b) per sample, over the unmixed
  /// denominator.
  uint32_t needs() const override { return needs::kMixedTargets; }
  at::Tensor forward(const LossInput& input) override;
  at::Tensor class_weights() const override { return weights_.f32(); }
  /// "weights": the configured w_c, when given.
  NamedTensors class_vectors() const override;

 private:
  Options options_;
  Constant weights_;  // [C] or undefined
};

}  // namespace tailor::plugins
