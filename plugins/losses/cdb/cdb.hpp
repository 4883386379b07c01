// cdb: Class-wise Difficulty-Balanced loss (Sinha, Ohashi, Nakamura, ACCV 2020).
#pragma once

#include <tailor/components.hpp>
#include <tailor/constant.hpp>
#include <tailor/options.hpp>

#include <cstdint>
#include <vector>

namespace tailor::plugins {

/// CDB loss: l_i = w_{y_i} L(z_i, y_i) with w_c = C d_c^tau / sum_k d_k^tau and class
/// difficulty d_c = 1 - A_c from the per-class validation accuracy A of the last epoch.
/// Weights are uniform until the first measurement; tau is fixed or recomputed from the
/// accuracy spread at every measurement.
class CdbLoss final : public Loss {
 public:
  struct Options {
    enum class TauMode { kDynamic, kDynamicV1, kFixed };
    static constexpr auto kTauModes = choice<TauMode>({{"dynamic", TauMode::kDynamic},
                                                       {"dynamic_v1", TauMode::kDynamicV1},
                                                       {"fixed", TauMode::kFixed}});
    enum class Base { kCe, kFocal };
    static constexpr auto kBases = choice<Base>({{"ce", Base::kCe}, {"focal", Base::kFocal}});
    enum class Reduction { kBatchMean, kMean, kSum };
    static constexpr auto kReductions = choice<Reduction>({{"batch_mean", Reduction::kBatchMean},
                                                           {"mean", Reduction::kMean},
                                                           {"sum", Reduction::kSum}});

    TauMode tau_mode = TauMode::kDynamic;
    double tau = 1.5;
    double tau_epsilon = 0.01;
    double min_difficulty = 0.0;
    Base base = Base::kCe;
    double gamma = 2.0;
    bool detach_modulator = false;
    Reduction reduction = Reduction::kBatchMean;

    template <class V>
    void visit(V& v) {
      v("tau_mode", tau_mode,
        "dynamic: tau = 2 sigmoid(r - 1) (paper, ImageNet-LT code); dynamic_v1: tau = "
        "sigmoid(r) (the CIFAR/EGTEA training scripts); fixed: tau = the tau option. "
        "r = max_c A_c / (min_c A_c + tau_epsilon).",
        kTauModes);
      v("tau", tau, "The exponent tau when tau_mode = \"fixed\"; 0 gives the unweighted loss.",
        at_least(0.0));
      v("tau_epsilon", tau_epsilon, "epsilon in the accuracy ratio r of the dynamic modes.",
        greater_than(0.0));
      v("min_difficulty", min_difficulty,
        "Floor on the difficulty 1 - A_c, so that a class at 100% accuracy keeps a small weight; "
        "0 is the official behaviour (weight 0).",
        range(0.0, 1.0));
      v("base", base, "Base loss: softmax CE, or one-vs-all sigmoid focal loss.", kBases);
      v("gamma", gamma, "Focusing parameter of base = focal.", at_least(0.0));
      v("detach_modulator", detach_modulator,
        "base = focal: treat (1-p_t)^gamma as a constant in the backward pass (as the official "
        "focal class does).");
      v("reduction", reduction,
        "batch_mean: sum_i l_i / N (CIFAR/EGTEA code); mean: sum_i l_i / sum_i w_{y_i} "
        "(ImageNet-LT code); sum: sum_i l_i.",
        kReductions);
    }
  };

  CdbLoss(const Options& options, const LossContext& context);
  uint32_t needs() const override { return needs::kValidationStats; }
  at::Tensor forward(const LossInput& input) override;
  void on_validation(const ClassStats& stats) override;
  NamedTensors state() const override;
  void load_state(const NamedTensors& state) override;
  at::Tensor class_weights() const override { return weights_.f32(); }
  /// "weights": w_c (uniform until the first validation pass).
  NamedTensors class_vectors() const override { return {{"weights", weights_.f32()}}; }

  /// The exponent for per-class accuracies `accuracy` (NaN entries ignored) under `options`.
  static double tau_for(const std::vector<double>& accuracy, const Options& options);
  /// w_c = C d_c^tau / sum_k d_k^tau with d_c = max(1 - A_c, min_difficulty); a NaN A_c
  /// counts as unmeasured (d_c = 1). Uniform when every d_c^tau is 0.
  static std::vector<double> weights_for(const std::vector<double>& accuracy, double tau,
                                         double min_difficulty);

  double tau() const { return tau_; }
  bool measured() const { return measured_; }

 private:
  void set_weights(std::vector<double> weights);

  Options options_;
  int64_t num_classes_;
  c10::Device device_;
  std::vector<double> weights_host_;  // double precision copy, what state() saves
  double tau_ = 0.0;                  // exponent of the current weights
  bool measured_ = false;             // false until the first validation pass
  Constant weights_;                  // [C] on the context's device
};

}  // namespace tailor::plugins
