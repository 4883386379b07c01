// sade_aggregation: SADE's test-time self-supervised aggregation loss (Zhang et al., NeurIPS
// 2022).
#pragma once

#include <tailor/components.hpp>
#include <tailor/options.hpp>

#include <cstdint>

namespace tailor::plugins {

/// SADE's self-supervised objective for learning the expert weights on unlabeled test inputs:
/// the batch holds two augmented views of the same N images, rows [0, N) view 1 and
/// [N, 2N) view 2 (a stage with views = 2), and with p_v = softmax(z_v) of the model's logits
/// (the experts head's aggregate sum_k softmax(w)_k z_k)
///
///   L = -(1/N) sum_i cos(p_1,i, p_2,i)
///
/// with PyTorch's cosine_similarity (eps = 1e-6). It never reads the targets.
class SadeAggregationLoss final : public Loss {
 public:
  struct Options {
    template <class V>
    void visit(V& /*v*/) {}
  };

  /// PyTorch's eps of the cosine (the official torch.nn.CosineSimilarity(dim=1, eps=1e-6)).
  static constexpr double kCosineEpsilon = 1e-6;

  SadeAggregationLoss(const Options& options, const LossContext& context);

  /// kUnlabeled: forward() never reads LossInput::targets, so the host lets the loss train a
  /// stage on the unlabeled test inputs.
  uint32_t needs() const override { return needs::kUnlabeled; }
  /// The loss of logits [2N, C] (view 1, then view 2); differentiable w.r.t. the logits.
  at::Tensor forward(const LossInput& input) override;

 private:
  int64_t num_classes_;
};

}  // namespace tailor::plugins
