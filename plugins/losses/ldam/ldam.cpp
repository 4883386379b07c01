// ldam: label-distribution-aware margin loss with optional DRW weights (Cao et al., NeurIPS 2019).
#include "ldam.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace tailor::plugins {

namespace {

void check_counts(const std::vector<int64_t>& counts) {
  for (size_t c = 0; c < counts.size(); ++c)
    TAILOR_CHECK(counts[c] >= 1, "ldam: class ", c, " has ", counts[c],
                 " training samples; its margin C / n^(1/4) would be infinite. Every class "
                 "needs at least one training sample");
}

}  // namespace

std::vector<double> LdamLoss::margins_for(const std::vector<int64_t>& counts, double max_m) {
  check_counts(counts);
  std::vector<double> margins(counts.size());
  for (size_t c = 0; c < counts.size(); ++c)
    margins[c] = 1.0 / std::sqrt(std::sqrt(static_cast<double>(counts[c])));
  const double largest = *std::max_element(margins.begin(), margins.end());
  for (double& m : margins) m *= max_m / largest;
  return margins;
}

LdamLoss::LdamLoss(const Options& options, const LossContext& context)
    : options_(options), num_classes_(context.num_classes) {
  TAILOR_CHECK(static_cast<int64_t>(context.class_counts.size()) == context.num_classes &&
                   context.num_classes > 0,
               "ldam: got ", context.class_counts.size(), " class counts for ", context.num_classes,
               " classes");
  margins_ = Constant(margins_for(context.class_counts, options.max_m), context.device);
  if (!options.reweight) return;
  // The DRW weights of the official code: effective-number weights normalised to sum C.
  std::vector<double> weights(context.class_counts.size());
  double total = 0.0;
  for (size_t c = 0; c < weights.size(); ++c) {
    const double n = static_cast<double>(context.class_counts[c]);
    weights[c] = (1.0 - options.drw_beta) / (1.0 - std::pow(options.drw_beta, n));
    total += weights[c];
  }
  for (double& w : weights) w *= static_cast<double>(weights.size()) / total;
  weights_ = Constant(weights, context.device);
}

at::Tensor LdamLoss::forward(const LossInput& in) {
  const at::Tensor& z = in.logits;
  TAILOR_CHECK(z.dim() == 2 && z.size(1) == num_classes_, "ldam: logits must be [N, ", num_classes_,
               "], got ", z.sizes());
  const at::Tensor margins = margins_.like(z);
  const at::Tensor weights = weights_.defined() ? weights_.like(z) : at::Tensor();
  // The loss on `targets` (whose margins it applies) with sample i's term multiplied by
  // multiplier[i] (undefined: 1), over the denominator of the unmixed loss; see
  // tailor::paired_targets_loss.
  const auto term = [&](const at::Tensor& targets, const at::Tensor& multiplier) {
    const at::Tensor one_hot = at::one_hot(targets, num_classes_).to(z.scalar_type());
    const at::Tensor m_y = margins.index_select(0, targets).unsqueeze(1);
    const at::Tensor adjusted = options_.s * (z - m_y * one_hot);
    at::Tensor per_sample =
        -at::log_softmax(adjusted, 1).gather(1, targets.unsqueeze(1)).squeeze(1);
    at::Tensor w_y;
    if (weights.defined()) {
      w_y = weights.index_select(0, targets);
      per_sample = w_y * per_sample;
    }
    if (multiplier.defined()) per_sample = multiplier * per_sample;
    if (options_.reduction == Options::Reduction::kSum) return per_sample.sum();
    if (options_.reduction == Options::Reduction::kBatchMean || !w_y.defined())
      return per_sample.mean();
    return per_sample.sum() / w_y.sum();  // class-balanced weights are positive
  };
  return paired_targets_loss(in, term);
}

at::Tensor LdamLoss::adjust_logits(const at::Tensor& logits) const {
  return options_.eval_logits == Options::EvalLogits::kScaled ? options_.s * logits : logits;
}

NamedTensors LdamLoss::class_vectors() const {
  NamedTensors out{{"margins", margins_.f32()}};
  if (weights_.defined()) out.emplace_back("drw_weights", weights_.f32());
  return out;
}

}  // namespace tailor::plugins
