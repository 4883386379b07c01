// vs_loss: Vector-Scaling loss, per-class logit scale and offset (Kini et al., NeurIPS 2021).
#include "vs_loss.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace tailor::plugins {

namespace {

void check_counts(const std::vector<int64_t>& counts) {
  for (size_t c = 0; c < counts.size(); ++c)
    TAILOR_CHECK(counts[c] >= 1, "vs_loss: class ", c, " has ", counts[c],
                 " training samples; its offset tau log(n_c / N) would be -infinity. Every "
                 "class needs at least one training sample");
}

at::Tensor as_tensor(const std::vector<double>& values, const c10::Device& device) {
  return at::tensor(values, at::kDouble).to(device);
}

}  // namespace

std::vector<double> VsLoss::inverse_scales_for(const std::vector<int64_t>& counts, double gamma) {
  check_counts(counts);
  // The official arithmetic: (1 / n_c)^gamma divided by its smallest value.
  std::vector<double> inverse(counts.size());
  for (size_t c = 0; c < counts.size(); ++c)
    inverse[c] = std::pow(1.0 / static_cast<double>(counts[c]), gamma);
  const double smallest = *std::min_element(inverse.begin(), inverse.end());
  for (double& v : inverse) v /= smallest;
  return inverse;
}

std::vector<double> VsLoss::offsets_for(const std::vector<int64_t>& counts, double tau) {
  check_counts(counts);
  double total = 0.0;
  for (int64_t n : counts) total += static_cast<double>(n);
  std::vector<double> offsets(counts.size());
  for (size_t c = 0; c < counts.size(); ++c)
    offsets[c] = tau * std::log(static_cast<double>(counts[c]) / total);
  return offsets;
}

VsLoss::VsLoss(const Options& options, const LossContext& context)
    : options_(options), num_classes_(context.num_classes) {
  TAILOR_CHECK(static_cast<int64_t>(context.class_counts.size()) == context.num_classes &&
                   context.num_classes > 0,
               "vs_loss: got ", context.class_counts.size(), " class counts for ",
               context.num_classes, " classes");
  inverse_scales_ =
      as_tensor(inverse_scales_for(context.class_counts, options.gamma), context.device);
  offsets_ = as_tensor(offsets_for(context.class_counts, options.tau), context.device);
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
  weights_ = as_tensor(weights, context.device);
}

at::Tensor VsLoss::forward(const LossInput& in) {
  const at::Tensor& z = in.logits;
  TAILOR_CHECK(z.dim() == 2 && z.size(1) == num_classes_, "vs_loss: logits must be [N, ",
               num_classes_, "], got ", z.sizes());
  const at::Tensor adjusted = z / inverse_scales_.to(z.options()) + offsets_.to(z.options());
  const at::Tensor w = weights_.defined() ? weights_.to(z.options()) : at::Tensor();
  // PyTorch's cross-entropy with `weight`, as the official code calls it: the default mean
  // divides by the sum of the targets' weights.
  if (options_.reduction == Options::Reduction::kMean) return at::cross_entropy_loss(adjusted, in.targets, w);
  const at::Tensor per_sample =
      at::cross_entropy_loss(adjusted, in.targets, w, at::Reduction::None);
  return options_.reduction == Options::Reduction::kSum ? per_sample.sum() : per_sample.mean();
}

}  // namespace tailor::plugins
