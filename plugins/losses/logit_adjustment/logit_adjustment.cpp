// logit_adjustment: logit-adjusted loss and post-hoc logit adjustment (Menon et al., ICLR 2021).
#include "logit_adjustment.hpp"

#include <ATen/ATen.h>

#include <cmath>
#include <vector>

namespace tailor::plugins {

LogitAdjustment::LogitAdjustment(const Options& options, const LossContext& context)
    : options_(options), num_classes_(context.num_classes) {
  TAILOR_CHECK(static_cast<int64_t>(context.class_counts.size()) == context.num_classes,
               "logit_adjustment: got ", context.class_counts.size(), " class counts for ",
               context.num_classes, " classes");
  double total = 0.0;
  for (int64_t n : context.class_counts) {
    TAILOR_CHECK(n >= 0, "logit_adjustment: negative class count ", n);
    total += static_cast<double>(n);
  }
  TAILOR_CHECK(total > 0.0, "logit_adjustment: the training set has no samples");
  std::vector<double> offsets(context.class_counts.size());
  for (size_t c = 0; c < offsets.size(); ++c) {
    const double prior = static_cast<double>(context.class_counts[c]) / total;
    const double shifted = std::pow(prior, options.tau) + options.prior_epsilon;
    TAILOR_CHECK(shifted > 0.0, "logit_adjustment: class ", c,
                 " has 0 training samples, so log(pi^tau) is -inf; keep prior_epsilon > 0 "
                 "(default 1e-12) or give every class a sample");
    offsets[c] = std::log(shifted);
  }
  offsets_ = Constant(offsets, context.device);
}

at::Tensor LogitAdjustment::forward(const LossInput& in) {
  const at::Tensor& z = in.logits;
  TAILOR_CHECK(z.dim() == 2 && z.size(1) == num_classes_, "logit_adjustment: logits must be [N, ",
               num_classes_, "], got ", z.sizes());
  const at::Tensor trained = options_.mode == Options::Mode::kLoss ? z + offsets_.like(z) : z;
  const at::Tensor log_p = at::log_softmax(trained, 1);
  // The loss on `targets` with sample i's term multiplied by multiplier[i] (undefined: 1);
  // see tailor::paired_targets_loss.
  const auto term = [&](const at::Tensor& targets, const at::Tensor& multiplier) {
    at::Tensor nll = -log_p.gather(1, targets.unsqueeze(1)).squeeze(1);
    if (multiplier.defined()) nll = multiplier * nll;
    return options_.reduction == Options::Reduction::kSum ? nll.sum() : nll.mean();
  };
  return paired_targets_loss(in, term);
}

at::Tensor LogitAdjustment::adjust_logits(const at::Tensor& logits) const {
  if (options_.mode != Options::Mode::kPosthoc) return logits;
  return logits - offsets_.like(logits);
}

}  // namespace tailor::plugins
