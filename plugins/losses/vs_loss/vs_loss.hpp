// vs_loss: Vector-Scaling loss, per-class logit scale and offset (Kini et al., NeurIPS 2021).
#pragma once

#include <tailor/components.hpp>
#include <tailor/options.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace tailor::plugins {

/// VS loss: l_i = w_{y_i} CE(Delta (.) z_i + iota, y_i) with the multiplicative scale
/// Delta_c = (n_c / n_max)^gamma, computed as the official code does (z_c / (n_max / n_c)^gamma),
/// and the additive offset iota_c = tau log(n_c / N). With reweight = true the w_c are
/// class-balanced weights (the DRW stage); else w = 1.
class VsLoss final : public Loss {
 public:
  struct Options {
    enum class Reduction { kMean, kBatchMean, kSum };
    static constexpr auto kReductions = choice<Reduction>({{"mean", Reduction::kMean},
                                                           {"batch_mean", Reduction::kBatchMean},
                                                           {"sum", Reduction::kSum}});

    double gamma = 0.3;
    double tau = 1.0;
    bool reweight = false;
    double drw_beta = 0.9999;
    Reduction reduction = Reduction::kMean;

    template <class V>
    void visit(V& v) {
      v("gamma", gamma, "Exponent of the multiplicative scale (n_c / n_max)^gamma; 0: no scaling.",
        at_least(0.0));
      v("tau", tau, "Weight of the additive offset tau log(n_c / N); 0: no offset.", at_least(0.0));
      v("reweight", reweight,
        "Weight samples by class-balanced weights (beta = drw_beta); the DRW stage sets it.");
      v("drw_beta", drw_beta, "beta of the class-balanced weights used when reweight = true.",
        range(0.0, 1.0, /*hi_open=*/true));
      v("reduction", reduction,
        "mean: sum_i l_i / sum_i w_{y_i} (PyTorch's weighted mean, the official code); "
        "batch_mean: sum_i l_i / N (the paper's empirical risk); sum: sum_i l_i.",
        kReductions);
    }
  };

  VsLoss(const Options& options, const LossContext& context);
  at::Tensor forward(const LossInput& input) override;
  at::Tensor class_weights() const override { return weights_; }

  /// The divisor of the official code, (n_max / n_c)^gamma = 1 / Delta_c, in float64.
  /// Throws tailor::Error for a count below 1.
  static std::vector<double> inverse_scales_for(const std::vector<int64_t>& counts, double gamma);
  /// iota_c = tau log(n_c / N), in float64. Throws tailor::Error for a count below 1.
  static std::vector<double> offsets_for(const std::vector<int64_t>& counts, double tau);
  /// 1 / Delta, [C] float64 on the context's device.
  const at::Tensor& inverse_scales() const { return inverse_scales_; }
  /// iota, [C] float64 on the context's device.
  const at::Tensor& offsets() const { return offsets_; }

 private:
  Options options_;
  int64_t num_classes_;
  // Kept in float64 and cast to the logits' dtype per batch, so that float64 logits get
  // float64 constants and float32 logits the float32 constants of the official code.
  at::Tensor inverse_scales_;
  at::Tensor offsets_;
  at::Tensor weights_;  // [C] float64, or undefined when reweight = false
};

}  // namespace tailor::plugins
