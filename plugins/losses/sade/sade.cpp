// sade: SADE's diverse-expert training loss (Zhang et al., NeurIPS 2022).
#include "sade.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>

namespace tailor::plugins {

namespace {

// The official code guards every log of a prior with + 1e-9.
constexpr double kLogEpsilon = 1e-9;

std::vector<double> log_of(const std::vector<double>& p) {
  std::vector<double> out(p.size());
  for (size_t c = 0; c < p.size(); ++c) out[c] = std::log(p[c] + kLogEpsilon);
  return out;
}

}  // namespace

std::vector<double> SadeLoss::inverse_prior(const std::vector<double>& prior) {
  std::vector<size_t> order(prior.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return prior[a] < prior[b]; });
  std::vector<double> out(prior.size());
  for (size_t rank = 0; rank < order.size(); ++rank)
    out[order[rank]] = prior[order[order.size() - 1 - rank]];
  return out;
}

SadeLoss::SadeLoss(const Options& options, const LossContext& context)
    : options_(options), num_classes_(context.num_classes) {
  TAILOR_CHECK(static_cast<int64_t>(context.class_counts.size()) == context.num_classes &&
                   context.num_classes > 0,
               "sade: got ", context.class_counts.size(), " class counts for ", context.num_classes,
               " classes");
  int64_t total = 0;
  for (size_t c = 0; c < context.class_counts.size(); ++c) {
    TAILOR_CHECK(context.class_counts[c] >= 0, "sade: class ", c, " has a negative count (",
                 context.class_counts[c], ")");
    total += context.class_counts[c];
  }
  TAILOR_CHECK(total > 0, "sade: the training split has no samples; the prior n / N is undefined");
  std::vector<double> prior(context.class_counts.size());
  for (size_t c = 0; c < prior.size(); ++c)
    prior[c] = static_cast<double>(context.class_counts[c]) / static_cast<double>(total);
  const std::vector<double> inverse = inverse_prior(prior);
  prior_ = Constant(prior, context.device);
  inverse_prior_ = Constant(inverse, context.device);
  log_prior_ = Constant(log_of(prior), context.device);
  log_inverse_prior_ = Constant(log_of(inverse), context.device);
}

SadeLoss::Terms SadeLoss::terms(const at::Tensor& expert_logits, const at::Tensor& targets) const {
  TAILOR_CHECK(expert_logits.dim() == 3 && expert_logits.size(2) == num_classes_,
               "sade: expert logits must be [3, N, ", num_classes_, "], got ",
               expert_logits.sizes());
  TAILOR_CHECK(expert_logits.size(0) == kExperts, "sade: the model has ", expert_logits.size(0),
               " experts, but SADE trains exactly 3 (softmax, balanced softmax, inverse softmax); "
               "set num_experts = 3 on the backbone");
  TAILOR_CHECK(targets.dim() == 1 && targets.size(0) == expert_logits.size(1),
               "sade: targets must be [", expert_logits.size(1), "], got ", targets.sizes());
  const at::Tensor log_pi = log_prior_.like(expert_logits);
  const at::Tensor log_pi_bar = log_inverse_prior_.like(expert_logits);
  auto ce = [&](const at::Tensor& z) {
    return -at::log_softmax(z, 1).gather(1, targets.unsqueeze(1)).squeeze(1).mean();
  };
  const at::Tensor l1 = ce(expert_logits.select(0, 0));
  const at::Tensor l2 = ce(expert_logits.select(0, 1) + log_pi);
  const at::Tensor l3 = ce(expert_logits.select(0, 2) + log_pi - options_.tau * log_pi_bar);
  return {l1 + l2 + l3, at::stack({l1.detach(), l2.detach(), l3.detach()})};
}

at::Tensor SadeLoss::forward(const LossInput& in) {
  TAILOR_CHECK(in.expert_logits.defined(),
               "sade: the host passed no expert logits; SADE trains the 3 experts of a "
               "multi-expert model: give the backbone num_experts = 3 and use the `experts` "
               "head (normalize = true, scale = 30)");
  return terms(in.expert_logits, in.targets).loss;
}

NamedTensors SadeLoss::class_vectors() const {
  return {{"balanced_offsets", log_prior_.f32()},
          {"inverse_offsets",
           (log_prior_.f64() - options_.tau * log_inverse_prior_.f64()).to(at::kFloat)}};
}

}  // namespace tailor::plugins
