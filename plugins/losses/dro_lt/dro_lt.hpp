// dro_lt: DRO-LT distributional robustness loss (Samuel & Chechik, ICCV 2021).
#pragma once

#include <tailor/components.hpp>
#include <tailor/constant.hpp>
#include <tailor/options.hpp>

#include <cstdint>
#include <vector>

namespace tailor::plugins {

/// DRO-LT feature-stage objective: L = CE_v(z, y) + lambda * L_rob(f, y; mu, eps, T).
///
/// L_rob is the official prototype-to-sample contrastive NLL: for every class c present in
/// the batch, s_ci = -(||mu_c - f_i||_2 + eps_c [y_i = c]) / T, normalised by a softmax over
/// the batch samples i, and l_c = -mean_{i: y_i = c} log p_ci averaged over the present
/// classes, or, with class weights u (robust_weights), sum_{c present} u_c l_c / sum_c u_c
/// over every class with a centroid.
/// The centroids mu are the class means of the feature bank the host passes at every epoch
/// start; the margins eps are learned (host-optimised), fixed or count-based.
class DroLtLoss final : public Loss {
 public:
  struct Options {
    enum class EpsilonMode { kLearned, kFixed, kCount };
    static constexpr auto kEpsilonModes = choice<EpsilonMode>({{"learned", EpsilonMode::kLearned},
                                                               {"fixed", EpsilonMode::kFixed},
                                                               {"count", EpsilonMode::kCount}});
    enum class Pairing { kIntended, kOfficial };
    static constexpr auto kPairings =
        choice<Pairing>({{"intended", Pairing::kIntended}, {"official", Pairing::kOfficial}});
    enum class Ce { kFrequencyWeighted, kPlain, kOff };
    static constexpr auto kCes = choice<Ce>(
        {{"frequency_weighted", Ce::kFrequencyWeighted}, {"plain", Ce::kPlain}, {"off", Ce::kOff}});
    enum class RobustWeights { kNone, kBalanced, kLongTailed };
    static constexpr auto kRobustWeights =
        choice<RobustWeights>({{"none", RobustWeights::kNone},
                               {"balanced", RobustWeights::kBalanced},
                               {"long_tailed", RobustWeights::kLongTailed}});

    double lambda = 1.0;
    double temperature = 1.0;
    EpsilonMode epsilon_mode = EpsilonMode::kLearned;
    double epsilon = 1.0;
    bool clamp_epsilon = false;
    Pairing epsilon_pairing = Pairing::kIntended;
    Ce ce = Ce::kFrequencyWeighted;
    RobustWeights robust_weights = RobustWeights::kNone;

    template <class V>
    void visit(V& v) {
      v("lambda", lambda, "Weight of the robustness loss (1 in the official code).", at_least(0.0));
      v("temperature", temperature,
        "Temperature T of the robustness loss (1 in the official recipe).", greater_than(0.0));
      v("epsilon_mode", epsilon_mode,
        "learned: per-class eps_c, optimised by the host in the loss group (official); fixed: "
        "eps_c = epsilon; count: eps_c = epsilon * sqrt(n_min / n_c).",
        kEpsilonModes);
      v("epsilon", epsilon,
        "Initial eps_c (learned), the constant eps_c (fixed) or the rarest class's eps_c (count).",
        at_least(0.0));
      v("clamp_epsilon", clamp_epsilon,
        "learned: project eps onto eps >= 0 before every batch (the official code lets it go "
        "negative).");
      v("epsilon_pairing", epsilon_pairing,
        "intended: each positive gets its own class's eps; official: the official code's "
        "class-sorted mask pairing (methods.md 5.7.7).",
        kPairings);
      v("ce", ce,
        "Cross-entropy term: frequency_weighted (v_c = n_c / max n, PyTorch weighted mean; "
        "official), plain (unweighted mean) or off (robustness loss only).",
        kCes);
      v("robust_weights", robust_weights,
        "Class weights u of the robustness loss: none (mean over present classes; the official "
        "recipe), balanced (u_c = n / (C n_c), official robust_loss_bal) or long_tailed "
        "(u_c = n_c / max n, robust_loss_lt); weighted: sum_c u_c l_c / sum over all classes.",
        kRobustWeights);
    }
  };

  DroLtLoss(const Options& options, const LossContext& context);

  uint32_t needs() const override { return needs::kFeatures | needs::kFeatureBank; }
  at::Tensor forward(const LossInput& input) override;
  void on_epoch_start(const Clock& clock) override;
  void on_feature_bank(const at::Tensor& features, const at::Tensor& labels,
                       const Clock& clock) override;
  NamedTensors parameters() override;
  NamedTensors state() const override;
  void load_state(const NamedTensors& state) override;
  /// The CE class weights v_c (frequency_weighted); undefined otherwise.
  at::Tensor class_weights() const override { return ce_weights_.f32(); }
  /// "epsilons": eps_c; "ce_weights": v_c, with ce = "frequency_weighted" only.
  NamedTensors class_vectors() const override;

  /// L_rob alone for features [N, D] and labels [N] (differentiable w.r.t. features and eps).
  at::Tensor robustness_loss(const at::Tensor& features, const at::Tensor& targets) const;
  /// The margins eps [C] (a leaf requiring grad in learned mode).
  const at::Tensor& epsilon() const { return epsilon_; }
  /// Class centroids [C, D] float32; rows of classes absent from the bank are 0.
  const at::Tensor& centroids() const { return centroids_.f32(); }
  /// The robustness loss's class weights u [C] float32; undefined when robust_weights = none.
  const at::Tensor& robust_weights() const { return robust_weights_.f32(); }
  /// Bank samples per class [C] (int64); 0 marks a class without a centroid.
  const at::Tensor& centroid_counts() const { return centroid_counts_; }

 private:
  Options options_;
  int64_t num_classes_;
  int64_t feature_dim_;
  c10::Device device_;
  void update_robust_norm();

  at::Tensor epsilon_;          // [C] float32 (learned: the parameter the host optimises)
  Constant fixed_epsilon_;      // [C], fixed and count modes
  Constant ce_weights_;         // [C] or undefined
  Constant robust_weights_;     // [C] or undefined
  double robust_norm_ = 0.0;    // sum of u_c over the classes with a centroid
  Constant centroids_;          // [C, D], undefined before the first bank
  at::Tensor centroid_counts_;  // [C] int64 on the CPU
};

}  // namespace tailor::plugins
