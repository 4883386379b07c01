// balanced_softmax: softmax CE on logits shifted by log class counts (Ren et al., NeurIPS 2020).
#include "balanced_softmax.hpp"

#include <ATen/ATen.h>

#include <cmath>
#include <vector>

namespace tailor::plugins {

BalancedSoftmax::BalancedSoftmax(const Options& options, const LossContext& context)
    : options_(options), num_classes_(context.num_classes) {
  TAILOR_CHECK(static_cast<int64_t>(context.class_counts.size()) == context.num_classes,
               "balanced_softmax: got ", context.class_counts.size(), " class counts for ",
               context.num_classes, " classes");
  std::vector<double> log_n(context.class_counts.size());
  for (size_t c = 0; c < log_n.size(); ++c) {
    TAILOR_CHECK(context.class_counts[c] >= 1, "balanced_softmax: class ", c, " has ",
                 context.class_counts[c],
                 " training samples; log n would be -inf. Every class needs at least one "
                 "training sample");
    log_n[c] = std::log(static_cast<double>(context.class_counts[c]));
  }
  log_counts_ = Constant(log_n, context.device);
}

at::Tensor BalancedSoftmax::forward(const LossInput& in) {
  const at::Tensor& z = in.logits;
  TAILOR_CHECK(z.dim() == 2 && z.size(1) == num_classes_, "balanced_softmax: logits must be [N, ",
               num_classes_, "], got ", z.sizes());
  const at::Tensor shifted = z + log_counts_.like(z);
  const at::Tensor log_p = at::log_softmax(shifted, 1);
  // The loss on `targets` with sample i's term multiplied by multiplier[i] (undefined: 1);
  // see tailor::paired_targets_loss.
  const auto term = [&](const at::Tensor& targets, const at::Tensor& multiplier) {
    at::Tensor nll = -log_p.gather(1, targets.unsqueeze(1)).squeeze(1);
    if (multiplier.defined()) nll = multiplier * nll;
    return options_.reduction == Options::Reduction::kSum ? nll.sum() : nll.mean();
  };
  return paired_targets_loss(in, term);
}

}  // namespace tailor::plugins
