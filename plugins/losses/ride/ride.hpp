// ride: RIDE's distribution-aware diversity loss for multi-expert models (Wang et al., ICLR 2021).
#pragma once

#include <tailor/components.hpp>
#include <tailor/constant.hpp>
#include <tailor/options.hpp>

#include <cstdint>
#include <vector>

namespace tailor::plugins {

/// RIDE's stage-1 loss (the official RIDELoss), summed over the K experts i:
///
///   L = sum_i [ f CE_w(z_i - s m_y e_y, y) + lambda T_bar^2 KL(softmax(z_bar / T) || softmax(z_i /
///   T)) ]
///
/// z_i are expert i's s-scaled cosine logits (LossInput::expert_logits[i]), z_bar the model's
/// output (LossInput::logits, the experts' mean), m_c = max_m n_c^{-1/4} / max_j n_j^{-1/4}
/// the LDAM margins, f = base_loss_factor, lambda = additional_diversity_factor. The KL is the
/// batch mean with the z_bar side detached. Before DRW, w = 1 and T = base temperature; from
/// the 0-based epoch drw_epoch on (reweight = true), w_c are the effective-number weights and
/// T_c = base temperature t_c / max t, t_c = C pi_c gamma + 1 - gamma; T_bar = mean_c T_c.
/// With lambda = 0 the CE term uses z_bar instead of z_i (the official "collaborative" case).
class RideLoss final : public Loss {
 public:
  struct Options {
    double max_m = 0.5;
    double s = 30.0;
    double additional_diversity_factor = -0.45;
    double base_diversity_temperature = 1.0;
    double reweight_factor = 0.05;
    bool reweight = true;
    int64_t drw_epoch = 160;
    double drw_beta = 0.9999;
    double base_loss_factor = 1.0;

    template <class V>
    void visit(V& v) {
      v("max_m", max_m, "Largest LDAM margin, that of the rarest class.", greater_than(0.0));
      v("s", s,
        "Scale of the experts' cosine logits (the experts head's scale); the target logit "
        "loses s m_y.",
        greater_than(0.0));
      v("additional_diversity_factor", additional_diversity_factor,
        "lambda, the weight of the diversity (KL) term; negative maximises the KL (official: "
        "-0.45 CIFAR, -0.2 ImageNet-LT); 0 trains the CE on the ensemble (collaborative).");
      v("base_diversity_temperature", base_diversity_temperature,
        "Temperature of the KL term before DRW; after it, multiplies the per-class temperatures.",
        greater_than(0.0));
      v("reweight_factor", reweight_factor,
        "gamma of the per-class temperatures t_c = C pi_c gamma + 1 - gamma (official: 0.05 "
        "CIFAR, 0.02 ImageNet-LT).",
        at_least(0.0));
      v("reweight", reweight,
        "Switch DRW weights and per-class temperatures on at drw_epoch; false: never (official "
        "reweight).");
      v("drw_epoch", drw_epoch,
        "0-based epoch of the stage from which DRW is on; equals the official reweight_epoch "
        "(160 CIFAR, 80 ImageNet-LT).",
        at_least(0.0));
      v("drw_beta", drw_beta, "beta of the effective-number DRW weights.",
        range(0.0, 1.0, /*hi_open=*/true));
      v("base_loss_factor", base_loss_factor, "Weight f of the per-expert LDAM term.",
        at_least(0.0));
    }
  };

  /// One batch's loss and its parts: ce[i] and kl[i] (detached, [K]) are expert i's CE term
  /// (before base_loss_factor) and KL (before lambda T_bar^2).
  struct Terms {
    at::Tensor loss;
    at::Tensor ce;
    at::Tensor kl;
  };

  RideLoss(const Options& options, const LossContext& context);

  /// kExpertLogits (a multi-expert model) and kNormedHead (cosine classifiers: the `experts`
  /// head carries the flag).
  uint32_t needs() const override { return needs::kExpertLogits | needs::kNormedHead; }
  at::Tensor forward(const LossInput& input) override;
  /// Switches DRW (weights and per-class temperatures) on from epoch drw_epoch.
  void on_epoch_start(const Clock& clock) override;
  /// The DRW weights while DRW is on; undefined before.
  at::Tensor class_weights() const override;
  /// "margins": m_c; "drw_weights": w_c, while DRW is on; "temperatures": T_c in use.
  NamedTensors class_vectors() const override;

  /// The loss of experts' logits [K, N, C], the ensemble z_bar [N, C] and targets [N], with
  /// the DRW state of the current epoch. Differentiable w.r.t. both logits tensors.
  Terms terms(const at::Tensor& expert_logits, const at::Tensor& ensemble_logits,
              const at::Tensor& targets) const;

  /// m_c = max_m (n_min / n_c)^{1/4}. Throws tailor::Error for a count below 1.
  static std::vector<double> margins_for(const std::vector<int64_t>& counts, double max_m);
  /// (1 - beta) / (1 - beta^{n_c}), normalised to sum C.
  static std::vector<double> drw_weights_for(const std::vector<int64_t>& counts, double beta);
  /// t_c / max t, t_c = C pi_c gamma + 1 - gamma (before base_diversity_temperature). Throws
  /// tailor::Error when a t_c is not positive.
  static std::vector<double> temperatures_for(const std::vector<int64_t>& counts, double gamma);

  /// Whether DRW weights and per-class temperatures are in use this epoch.
  bool drw_active() const { return drw_active_; }
  /// Margins m_c, [C] float32.
  const at::Tensor& margins() const { return margins_.f32(); }
  /// Diversity temperatures T_c in use, [C] float32.
  at::Tensor temperatures() const;
  /// T_bar = mean_c T_c in use.
  double temperature_mean() const;

 private:
  Options options_;
  int64_t num_classes_;
  Constant margins_;       // [C]
  Constant drw_weights_;   // [C]; undefined when reweight = false
  Constant temperatures_;  // [C] base T t_c / max t; undefined when reweight = false
  double drw_temperature_mean_ = 0.0;
  bool drw_active_ = false;
};

}  // namespace tailor::plugins
