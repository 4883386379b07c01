// ldam: label-distribution-aware margin loss with optional DRW weights (Cao et al., NeurIPS 2019).
#pragma once

#include <tailor/components.hpp>
#include <tailor/constant.hpp>
#include <tailor/options.hpp>

#include <cstdint>
#include <vector>

namespace tailor::plugins {

/// LDAM: l_i = w_{y_i} CE(s (z_i - m_{y_i} e_{y_i}), y_i) on cosine logits z, with per-class
/// margins m_c proportional to n_c^{-1/4} and max_c m_c = max_m. With reweight = true the
/// w_c are class-balanced weights (the DRW stage); else w = 1.
class LdamLoss final : public Loss {
 public:
  struct Options {
    enum class Reduction { kMean, kBatchMean, kSum };
    enum class EvalLogits { kScaled, kCosine };
    static constexpr auto kEvalLogits =
        choice<EvalLogits>({{"scaled", EvalLogits::kScaled}, {"cosine", EvalLogits::kCosine}});
    static constexpr auto kReductions = choice<Reduction>({{"mean", Reduction::kMean},
                                                           {"batch_mean", Reduction::kBatchMean},
                                                           {"sum", Reduction::kSum}});

    double max_m = 0.5;
    double s = 30.0;
    bool reweight = false;
    double drw_beta = 0.9999;
    Reduction reduction = Reduction::kMean;
    EvalLogits eval_logits = EvalLogits::kScaled;

    template <class V>
    void visit(V& v) {
      v("max_m", max_m, "Largest margin, that of the rarest class.", greater_than(0.0));
      v("s", s, "Scale applied to the margin-adjusted cosine logits.", greater_than(0.0));
      v("reweight", reweight,
        "Weight samples by class-balanced weights (beta = drw_beta); the DRW stage sets it.");
      v("drw_beta", drw_beta, "beta of the class-balanced weights used when reweight = true.",
        range(0.0, 1.0, /*hi_open=*/true));
      v("reduction", reduction,
        "mean: sum_i l_i / sum_i w_{y_i} (PyTorch's weighted mean, the official code); "
        "batch_mean: sum_i l_i / N; sum: sum_i l_i.",
        kReductions);
      v("eval_logits", eval_logits,
        "Logits evaluated (accuracy, ECE, predictions): scaled = s z, the predictive "
        "distribution the loss trains; cosine = z, whose softmax is nearly flat. The argmax, "
        "and so every accuracy, is the same.",
        kEvalLogits);
    }
  };

  LdamLoss(const Options& options, const LossContext& context);
  /// A cosine head; mixed batches: lambda l(y_a) + (1 - lambda) l(y_b) per sample, each with
  /// its own targets' margins, over the unmixed denominator.
  uint32_t needs() const override { return needs::kNormedHead | needs::kMixedTargets; }
  at::Tensor forward(const LossInput& input) override;
  at::Tensor class_weights() const override { return weights_.f32(); }
  /// s z with eval_logits = scaled, else z.
  at::Tensor adjust_logits(const at::Tensor& logits) const override;
  /// "margins": m_c; "drw_weights": w_c, with reweight = true only.
  NamedTensors class_vectors() const override;

  /// m_c = max_m (n_min / n_c)^{1/4}. Throws tailor::Error for a count below 1.
  static std::vector<double> margins_for(const std::vector<int64_t>& counts, double max_m);
  /// Per-class margins in use, [C] float32.
  const at::Tensor& margins() const { return margins_.f32(); }

 private:
  Options options_;
  int64_t num_classes_;
  Constant margins_;  // [C] on the context's device
  Constant weights_;  // [C] or undefined when reweight = false
};

}  // namespace tailor::plugins
