// mixup: input mixup with one lambda per batch (Zhang et al., ICLR 2018), MiSLAS stage 1.
#pragma once

#include <tailor/components.hpp>
#include <tailor/options.hpp>

#include <cstdint>
#include <vector>

namespace tailor::plugins {

/// Mixup with explicit draws: mixed = lambda x + (1 - lambda) x[perm] for `inputs` [N, ...]
/// (any rank >= 1), targets_b = targets[perm], mix_weight = lambda for every sample (float64
/// for float64 inputs, else float32). `permutation` is a permutation of 0 .. N-1; throws
/// tailor::Error otherwise, or for lambda outside [0, 1].
MixOutput mixup(const at::Tensor& inputs, const at::Tensor& targets, double lambda,
                const std::vector<int64_t>& permutation);

/// Input mixup (Zhang et al., ICLR 2018) as MiSLAS stage 1 uses it (Zhong et al., CVPR 2021):
/// every batch is mixed with a permutation of itself, lambda ~ Beta(alpha, alpha); the loss
/// is lambda L(y) + (1 - lambda) L(y[perm]).
class Mixup final : public BatchMix {
 public:
  struct Options {
    double alpha = 1.0;

    template <class V>
    void visit(V& v) {
      v("alpha", alpha, "lambda ~ Beta(alpha, alpha); 0 turns mixing off (lambda = 1).",
        at_least(0.0));
    }
  };

  Mixup(const Options& options, const BatchMixContext& context);
  MixOutput mix(const MixInput& input) override;

 private:
  Options options_;
};

}  // namespace tailor::plugins
