// logit_adjustment: logit-adjusted loss and post-hoc logit adjustment (Menon et al., ICLR 2021).
#pragma once

#include <tailor/components.hpp>
#include <tailor/constant.hpp>
#include <tailor/options.hpp>

namespace tailor::plugins {

/// Logit adjustment with offsets o_c = log(pi_c^tau + epsilon), pi the training prior.
/// mode "loss": l_i = CE(z_i + o, y_i), predictions from the raw z.
/// mode "posthoc": l_i = CE(z_i, y_i), predictions from z - o (adjust_logits()).
class LogitAdjustment final : public Loss {
 public:
  struct Options {
    enum class Mode { kLoss, kPosthoc };
    static constexpr auto kModes =
        choice<Mode>({{"loss", Mode::kLoss}, {"posthoc", Mode::kPosthoc}});
    enum class Reduction { kMean, kSum };
    static constexpr auto kReductions =
        choice<Reduction>({{"mean", Reduction::kMean}, {"sum", Reduction::kSum}});

    Mode mode = Mode::kLoss;
    double tau = 1.0;
    double prior_epsilon = 1e-12;
    Reduction reduction = Reduction::kMean;

    template <class V>
    void visit(V& v) {
      v("mode", mode,
        "loss: train with CE(z + tau log pi); posthoc: train with plain CE and evaluate "
        "z - tau log pi.",
        kModes);
      v("tau", tau, "Temperature tau of the prior.", at_least(0.0));
      v("prior_epsilon", prior_epsilon,
        "epsilon in log(pi^tau + epsilon), as in the official code.", at_least(0.0));
      v("reduction", reduction, "mean: batch mean; sum: sum over the batch.", kReductions);
    }
  };

  LogitAdjustment(const Options& options, const LossContext& context);
  /// Mixed batches: lambda l(y_a) + (1 - lambda) l(y_b) per sample.
  uint32_t needs() const override { return needs::kMixedTargets; }
  at::Tensor forward(const LossInput& input) override;
  at::Tensor adjust_logits(const at::Tensor& logits) const override;
  /// "offsets": o_c.
  NamedTensors class_vectors() const override { return {{"offsets", offsets_.f32()}}; }

  /// o_c = log(pi_c^tau + epsilon), [C] float32.
  const at::Tensor& offsets() const { return offsets_.f32(); }

 private:
  Options options_;
  int64_t num_classes_;
  Constant offsets_;  // [C] on the context's device
};

}  // namespace tailor::plugins
