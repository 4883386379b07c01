// balanced_softmax: softmax CE on logits shifted by log class counts (Ren et al., NeurIPS 2020).
#pragma once

#include <tailor/components.hpp>
#include <tailor/constant.hpp>
#include <tailor/options.hpp>

namespace tailor::plugins {

/// Balanced Softmax: l_i = -log(n_y e^{z_y} / sum_j n_j e^{z_j}) = CE(z_i + log n, y_i).
/// Predictions use the raw logits.
class BalancedSoftmax final : public Loss {
 public:
  struct Options {
    enum class Reduction { kMean, kSum };
    static constexpr auto kReductions =
        choice<Reduction>({{"mean", Reduction::kMean}, {"sum", Reduction::kSum}});

    Reduction reduction = Reduction::kMean;

    template <class V>
    void visit(V& v) {
      v("reduction", reduction, "mean: batch mean; sum: sum over the batch.", kReductions);
    }
  };

  BalancedSoftmax(const Options& options, const LossContext& context);
  /// Mixed batches: lambda l(y_a) + (1 - lambda) l(y_b) per sample (BS+CMO).
  uint32_t needs() const override { return needs::kMixedTargets; }
  at::Tensor forward(const LossInput& input) override;

  /// log n_c, [C] float32.
  const at::Tensor& log_counts() const { return log_counts_.f32(); }

 private:
  Options options_;
  int64_t num_classes_;
  Constant log_counts_;  // [C] on the context's device
};

}  // namespace tailor::plugins
