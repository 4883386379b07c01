// sade: SADE's diverse-expert training loss (Zhang et al., NeurIPS 2022).
#pragma once

#include <tailor/components.hpp>
#include <tailor/constant.hpp>
#include <tailor/options.hpp>

#include <vector>

namespace tailor::plugins {

/// SADE's training loss (the official DiverseExpertLoss) for exactly 3 experts, a sum:
///
///   L = CE(z1, y) + CE(z2 + log(pi + 1e-9), y) + CE(z3 + log(pi + 1e-9) - tau log(pi_bar + 1e-9),
///   y)
///
/// z_k = LossInput::expert_logits[k - 1] (s-scaled cosine logits), CE the batch mean,
/// pi = n / N the training prior and pi_bar its rank reversal: the class with the j-th
/// smallest prior gets the j-th largest prior value. Expert 1 learns the long-tailed
/// distribution (softmax), expert 2 a balanced one (balanced softmax), expert 3 an inversely
/// long-tailed one.
class SadeLoss final : public Loss {
 public:
  struct Options {
    double tau = 2.0;

    template <class V>
    void visit(V& v) {
      v("tau", tau,
        "Strength of the inverse prior in expert 3's logit shift (2 in every official config).",
        at_least(0.0));
    }
  };

  /// One batch's loss and its parts: expert_losses[k] (detached, [3]) is expert k's CE.
  struct Terms {
    at::Tensor loss;
    at::Tensor expert_losses;
  };

  /// The number of experts SADE trains.
  static constexpr int64_t kExperts = 3;

  SadeLoss(const Options& options, const LossContext& context);

  uint32_t needs() const override { return needs::kExpertLogits; }
  at::Tensor forward(const LossInput& input) override;
  /// "balanced_offsets": log(pi + 1e-9), expert 2's logit shift; "inverse_offsets":
  /// log(pi + 1e-9) - tau log(pi_bar + 1e-9), expert 3's.
  NamedTensors class_vectors() const override;

  /// The loss of expert logits [3, N, C] and targets [N]; differentiable w.r.t. the logits.
  Terms terms(const at::Tensor& expert_logits, const at::Tensor& targets) const;

  /// The rank reversal of `prior`: the class of the j-th smallest value gets the j-th
  /// largest. Ties are ranked by class index (the official torch.sort leaves them unordered).
  static std::vector<double> inverse_prior(const std::vector<double>& prior);

  /// pi, [C] float32.
  const at::Tensor& prior() const { return prior_.f32(); }
  /// pi_bar, [C] float32.
  const at::Tensor& inverse_prior() const { return inverse_prior_.f32(); }

 private:
  Options options_;
  int64_t num_classes_;
  Constant prior_;              // [C] pi
  Constant inverse_prior_;      // [C] pi_bar
  Constant log_prior_;          // [C] log(pi + 1e-9)
  Constant log_inverse_prior_;  // [C] log(pi_bar + 1e-9)
};

}  // namespace tailor::plugins
