// class_balanced: Class-Balanced loss with effective-number weights (Cui et al., CVPR 2019).
#include "class_balanced.hpp"

#include <ATen/ATen.h>

#include <cmath>

namespace tailor::plugins {

std::vector<double> ClassBalancedLoss::effective_number_weights(const std::vector<int64_t>& counts,
                                                                double beta) {
  TAILOR_CHECK(beta >= 0.0 && beta < 1.0, "class_balanced: beta must be in [0, 1), got ", beta);
  std::vector<double> weights(counts.size());
  double total = 0.0;
  for (size_t c = 0; c < counts.size(); ++c) {
    TAILOR_CHECK(counts[c] >= 1, "class_balanced: class ", c, " has ", counts[c],
                 " training samples; its effective number 1 - beta^n is 0 and its weight "
                 "infinite. Every class needs at least one training sample");
    weights[c] = (1.0 - beta) / (1.0 - std::pow(beta, static_cast<double>(counts[c])));
    total += weights[c];
  }
  for (double& w : weights) w *= static_cast<double>(counts.size()) / total;
  return weights;
}

ClassBalancedLoss::ClassBalancedLoss(const Options& options, const LossContext& context)
    : options_(options), num_classes_(context.num_classes) {
  TAILOR_CHECK(static_cast<int64_t>(context.class_counts.size()) == context.num_classes,
               "class_balanced: got ", context.class_counts.size(), " class counts for ",
               context.num_classes, " classes");
  weights_ = Constant(effective_number_weights(context.class_counts, options.beta), context.device);
}

at::Tensor ClassBalancedLoss::forward(const LossInput& in) {
  const at::Tensor& z = in.logits;
  TAILOR_CHECK(z.dim() == 2 && z.size(1) == num_classes_, "class_balanced: logits must be [N, ",
               num_classes_, "], got ", z.sizes());
  at::Tensor per_sample;
  if (options_.base == Options::Base::kSoftmax) {
    per_sample = -at::log_softmax(z, 1).gather(1, in.targets.unsqueeze(1)).squeeze(1);
  } else {
    // One-vs-all: the sample's weight multiplies all C binary terms, negatives included.
    const at::Tensor y = at::one_hot(in.targets, num_classes_).to(z.scalar_type());
    at::Tensor terms = at::binary_cross_entropy_with_logits(z, y, {}, {}, at::Reduction::None);
    if (options_.base == Options::Base::kFocal && options_.gamma > 0.0) {
      // The official modulator exp(-gamma y z - gamma log(1 + exp(-z))) = (1 - p_t)^gamma,
      // with log(1 + exp(-z)) as softplus(-z) so that it cannot overflow.
      terms = at::exp(-options_.gamma * (y * z + at::softplus(-z))) * terms;
    }
    per_sample = terms.sum(1);
  }
  const at::Tensor w_y = weights_.like(z).index_select(0, in.targets);
  per_sample = w_y * per_sample;
  if (options_.reduction == Options::Reduction::kSum) return per_sample.sum();
  // The official divisor: the number of non-zero weights (softmax) or of positive labels
  // (sigmoid, focal); both are N because every CB weight is positive.
  if (options_.reduction == Options::Reduction::kBatchMean) return per_sample.mean();
  return per_sample.sum() / w_y.sum();
}

}  // namespace tailor::plugins
