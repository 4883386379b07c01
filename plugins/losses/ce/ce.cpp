// ce: softmax cross-entropy with optional per-class weights and label smoothing.
#include "ce.hpp"

#include <ATen/ATen.h>

namespace tailor::plugins {

CrossEntropy::CrossEntropy(const Options& options, const LossContext& context) : options_(options) {
  if (options.class_weights.empty()) return;
  TAILOR_CHECK(static_cast<int64_t>(options.class_weights.size()) == context.num_classes,
               "[loss] class_weights has ", options.class_weights.size(),
               " entries but the dataset has ", context.num_classes,
               " classes; give one weight per class or leave it empty");
  weights_ = Constant(options.class_weights, context.device);
}

at::Tensor CrossEntropy::forward(const LossInput& in) {
  const double eps = options_.label_smoothing;
  const int64_t num_classes = in.logits.size(1);
  const at::Tensor log_p = at::log_softmax(in.logits, 1);
  const at::Tensor w = weights_.defined() ? weights_.like(in.logits) : at::Tensor();
  // The loss on `targets` with sample i's term multiplied by multiplier[i] (undefined: 1),
  // over the denominator of the unmixed loss; see tailor::paired_targets_loss.
  const auto term = [&](const at::Tensor& targets, const at::Tensor& multiplier) {
    const at::Tensor nll = -log_p.gather(1, targets.unsqueeze(1)).squeeze(1);
    at::Tensor w_y;
    at::Tensor per_sample = nll;
    if (w.defined()) {
      w_y = w.index_select(0, targets);
      per_sample = w_y * nll;
      if (eps > 0.0)
        per_sample = (1.0 - eps) * per_sample - (eps / num_classes) * (log_p * w).sum(1);
    } else if (eps > 0.0) {
      per_sample = (1.0 - eps) * nll - (eps / num_classes) * log_p.sum(1);
    }
    if (multiplier.defined()) per_sample = multiplier * per_sample;
    using Reduction = Options::Reduction;
    if (options_.reduction == Reduction::kSum) return per_sample.sum();
    if (options_.reduction == Reduction::kBatchMean || !w_y.defined()) return per_sample.mean();
    return per_sample.sum() / w_y.sum();
  };
  return paired_targets_loss(in, term);
}

NamedTensors CrossEntropy::class_vectors() const {
  if (!weights_.defined()) return {};
  return {{"weights", weights_.f32()}};
}

}  // namespace tailor::plugins
