// ride: RIDE's distribution-aware diversity loss for multi-expert models (Wang et al., ICLR 2021).
#include "ride.hpp"

#include <tailor/log.hpp>

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

namespace tailor::plugins {

std::vector<double> RideLoss::margins_for(const std::vector<int64_t>& counts, double max_m) {
  for (size_t c = 0; c < counts.size(); ++c)
    TAILOR_CHECK(counts[c] >= 1, "ride: class ", c, " has ", counts[c],
                 " training samples; its LDAM margin n^(-1/4) would be infinite. Every class "
                 "needs at least one training sample");
  std::vector<double> margins(counts.size());
  for (size_t c = 0; c < counts.size(); ++c)
    margins[c] = 1.0 / std::sqrt(std::sqrt(static_cast<double>(counts[c])));
  const double largest = *std::max_element(margins.begin(), margins.end());
  for (double& m : margins) m *= max_m / largest;
  return margins;
}

std::vector<double> RideLoss::drw_weights_for(const std::vector<int64_t>& counts, double beta) {
  std::vector<double> weights(counts.size());
  for (size_t c = 0; c < counts.size(); ++c)
    weights[c] = (1.0 - beta) / (1.0 - std::pow(beta, static_cast<double>(counts[c])));
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  for (double& w : weights) w = w / total * static_cast<double>(weights.size());
  return weights;
}

std::vector<double> RideLoss::temperatures_for(const std::vector<int64_t>& counts, double gamma) {
  const double n = static_cast<double>(std::accumulate(counts.begin(), counts.end(), int64_t{0}));
  const double classes = static_cast<double>(counts.size());
  std::vector<double> t(counts.size());
  for (size_t c = 0; c < counts.size(); ++c) {
    const double pi = static_cast<double>(counts[c]) / n;
    t[c] = classes * pi * gamma + 1.0 - gamma;
    TAILOR_CHECK(t[c] > 0.0, "ride: reweight_factor ", gamma,
                 " makes the diversity temperature of class ", c,
                 " non-positive (C pi gamma + 1 - "
                 "gamma = ",
                 t[c], "); use a smaller reweight_factor (official: 0.05 or 0.02)");
  }
  const double largest = *std::max_element(t.begin(), t.end());
  for (double& v : t) v /= largest;  // the official "experimental normalization"
  return t;
}

RideLoss::RideLoss(const Options& options, const LossContext& context)
    : options_(options), num_classes_(context.num_classes) {
  TAILOR_CHECK(static_cast<int64_t>(context.class_counts.size()) == context.num_classes &&
                   context.num_classes > 0,
               "ride: got ", context.class_counts.size(), " class counts for ", context.num_classes,
               " classes");
  margins_ = Constant(margins_for(context.class_counts, options.max_m), context.device);
  if (!options.reweight) return;
  drw_weights_ = Constant(drw_weights_for(context.class_counts, options.drw_beta), context.device);
  std::vector<double> t = temperatures_for(context.class_counts, options.reweight_factor);
  for (double& v : t) v *= options.base_diversity_temperature;
  drw_temperature_mean_ = std::accumulate(t.begin(), t.end(), 0.0) / static_cast<double>(t.size());
  temperatures_ = Constant(t, context.device);
  if (context.total_epochs > 0 && options.drw_epoch >= context.total_epochs)
    log_warn("ride: drw_epoch = " + std::to_string(options.drw_epoch) + " but the stage has " +
             std::to_string(context.total_epochs) +
             " epochs: DRW weights and per-class temperatures never switch on (set drw_epoch "
             "within the stage, or reweight = false to say so)");
}

void RideLoss::on_epoch_start(const Clock& clock) {
  const bool active = options_.reweight && clock.epoch >= options_.drw_epoch;
  if (active && !drw_active_)
    log_info("ride: epoch " + std::to_string(clock.epoch + 1) +
             ": DRW weights and per-class diversity temperatures on");
  drw_active_ = active;
}

at::Tensor RideLoss::class_weights() const {
  return drw_active_ ? drw_weights_.f32() : at::Tensor();
}

at::Tensor RideLoss::temperatures() const {
  if (drw_active_) return temperatures_.f32();
  return at::full({num_classes_}, options_.base_diversity_temperature, margins_.f32().options());
}

double RideLoss::temperature_mean() const {
  return drw_active_ ? drw_temperature_mean_ : options_.base_diversity_temperature;
}

NamedTensors RideLoss::class_vectors() const {
  NamedTensors out{{"margins", margins_.f32()}};
  if (drw_active_) out.emplace_back("drw_weights", drw_weights_.f32());
  out.emplace_back("temperatures", temperatures());
  return out;
}

RideLoss::Terms RideLoss::terms(const at::Tensor& expert_logits, const at::Tensor& ensemble_logits,
                                const at::Tensor& targets) const {
  TAILOR_CHECK(expert_logits.dim() == 3 && expert_logits.size(0) >= 1 &&
                   expert_logits.size(2) == num_classes_,
               "ride: expert logits must be [K, N, ", num_classes_, "], got ",
               expert_logits.sizes());
  const int64_t experts = expert_logits.size(0), n = expert_logits.size(1);
  TAILOR_CHECK(ensemble_logits.dim() == 2 && ensemble_logits.size(0) == n &&
                   ensemble_logits.size(1) == num_classes_,
               "ride: ensemble logits must be [", n, ", ", num_classes_, "], got ",
               ensemble_logits.sizes());
  TAILOR_CHECK(targets.dim() == 1 && targets.size(0) == n, "ride: targets must be [", n, "], got ",
               targets.sizes());
  const at::Tensor& z_bar = ensemble_logits;
  const double lambda = options_.additional_diversity_factor;
  const double t_bar = temperature_mean();

  // LDAM: the target logit loses s m_y (the logits are already s-scaled cosines).
  const at::Tensor one_hot = at::one_hot(targets, num_classes_).to(expert_logits.scalar_type());
  const at::Tensor shift =
      (options_.s * margins_.like(expert_logits).index_select(0, targets)).unsqueeze(1) * one_hot;
  at::Tensor w_y;
  if (drw_active_) w_y = drw_weights_.like(expert_logits).index_select(0, targets);
  auto ce = [&](const at::Tensor& z) {
    const at::Tensor nll =
        -at::log_softmax(z - shift, 1).gather(1, targets.unsqueeze(1)).squeeze(1);
    // PyTorch's weighted mean: sum_i w_{y_i} l_i / sum_i w_{y_i}.
    return w_y.defined() ? (w_y * nll).sum() / w_y.sum() : nll.mean();
  };
  // Diversity: per-class temperatures divide the logits elementwise once DRW is on.
  const at::Tensor temperature =
      drw_active_ ? temperatures_.like(expert_logits).unsqueeze(0) : at::Tensor();
  auto tempered = [&](const at::Tensor& z) {
    return temperature.defined() ? z / temperature : z / options_.base_diversity_temperature;
  };
  const at::Tensor log_p = at::log_softmax(tempered(z_bar.detach()), 1);
  const at::Tensor p = log_p.exp();

  // lambda = 0: the official code trains every expert's CE on the ensemble instead.
  const at::Tensor collaborative_ce = lambda == 0.0 ? ce(z_bar) : at::Tensor();
  at::Tensor loss;
  std::vector<at::Tensor> ce_terms, kl_terms;
  for (int64_t i = 0; i < experts; ++i) {
    const at::Tensor z_i = expert_logits.select(0, i);
    const at::Tensor ce_i = collaborative_ce.defined() ? collaborative_ce : ce(z_i);
    // With lambda = 0 the KL is only reported: keep it out of the graph.
    const at::Tensor log_q = at::log_softmax(tempered(lambda == 0.0 ? z_i.detach() : z_i), 1);
    const at::Tensor kl_i = (p * (log_p - log_q)).sum() / static_cast<double>(n);  // batchmean
    const at::Tensor base = options_.base_loss_factor * ce_i;
    loss = loss.defined() ? loss + base : base;
    // The official code adds 0 * KL when lambda = 0; skipping it keeps a non-finite KL out.
    if (lambda != 0.0) loss = loss + lambda * t_bar * t_bar * kl_i;
    ce_terms.push_back(ce_i.detach());
    kl_terms.push_back(kl_i.detach());
  }
  return {loss, at::stack(ce_terms), at::stack(kl_terms)};
}

at::Tensor RideLoss::forward(const LossInput& in) {
  TAILOR_CHECK(in.expert_logits.defined(),
               "ride: the host passed no expert logits; RIDE trains every expert of a "
               "multi-expert model: give the backbone num_experts > 1 (e.g. num_experts = 3) "
               "and use the `experts` head (normalize = true, scale = 30)");
  TAILOR_CHECK(in.logits.defined(), "ride: the host passed no ensemble logits");
  return terms(in.expert_logits, in.logits, in.targets).loss;
}

}  // namespace tailor::plugins
