// focal: softmax and one-vs-all sigmoid focal loss (Lin et al., ICCV 2017).
#include "focal.hpp"

#include <ATen/ATen.h>

namespace tailor::plugins {

namespace {

// Where (1-p)^gamma with gamma < 1 has an infinite slope, the factor is floored here.
constexpr double kMinOneMinusP = 1e-12;

using Reduction = FocalLoss::Options::Reduction;

at::Tensor reduce(const at::Tensor& per_sample, const at::Tensor& w_y, Reduction reduction) {
  if (reduction == Reduction::kSum) return per_sample.sum();
  if (reduction == Reduction::kBatchMean || !w_y.defined()) return per_sample.mean();
  const at::Tensor total = w_y.sum();
  // A batch whose classes all weigh 0 contributes 0 rather than 0/0.
  return per_sample.sum() / at::where(total > 0, total, at::ones_like(total));
}

}  // namespace

FocalLoss::FocalLoss(const Options& options, const LossContext& context)
    : options_(options), num_classes_(context.num_classes) {
  TAILOR_CHECK(options.alpha < 0.0 || options.form == Options::Form::kSigmoid,
               "[loss] alpha = ", options.alpha,
               " balances positive and negative terms of the sigmoid form only; with form = "
               "\"softmax\" give per-class class_weights instead, or set alpha = -1");
  TAILOR_CHECK(options.weight_mode == Options::WeightMode::kOutside ||
                   options.form == Options::Form::kSoftmax,
               "[loss] weight_mode = \"official_ldam_drw\" is LDAM-DRW's softmax focal loss; "
               "use it with form = \"softmax\", or set weight_mode = \"outside\"");
  if (options.class_weights.empty()) return;
  TAILOR_CHECK(static_cast<int64_t>(options.class_weights.size()) == context.num_classes,
               "[loss] class_weights has ", options.class_weights.size(),
               " entries but the dataset has ", context.num_classes,
               " classes; give one weight per class or leave it empty");
  weights_ = Constant(options.class_weights, context.device);
}

at::Tensor FocalLoss::forward(const LossInput& in) {
  const at::Tensor& z = in.logits;
  TAILOR_CHECK(z.dim() == 2 && z.size(1) == num_classes_, "focal: logits must be [N, ",
               num_classes_, "], got ", z.sizes());
  const double gamma = options_.gamma;
  at::Tensor per_sample;
  at::Tensor w_y;
  if (weights_.defined()) w_y = weights_.like(z).index_select(0, in.targets);
  if (options_.form == Options::Form::kSoftmax &&
      options_.weight_mode == Options::WeightMode::kOfficialLdamDrw) {
    // LDAM-DRW's focal_loss(F.cross_entropy(weight=w, reduction="none"), gamma): the weighted
    // CE stands in for -log p inside the modulator as well.
    at::Tensor ce = -at::log_softmax(z, 1).gather(1, in.targets.unsqueeze(1)).squeeze(1);
    if (w_y.defined()) ce = w_y * ce;
    per_sample = ce;
    if (gamma > 0.0) {
      at::Tensor one_minus_p = -at::expm1(-ce);
      if (gamma < 1.0) one_minus_p = one_minus_p.clamp_min(kMinOneMinusP);
      at::Tensor modulator = at::pow(one_minus_p, gamma);
      if (options_.detach_modulator) modulator = modulator.detach();
      per_sample = modulator * ce;
    }
    return reduce(per_sample, w_y, options_.reduction);
  }
  if (options_.form == Options::Form::kSoftmax) {
    const at::Tensor log_pt = at::log_softmax(z, 1).gather(1, in.targets.unsqueeze(1)).squeeze(1);
    per_sample = -log_pt;
    if (gamma > 0.0) {
      at::Tensor one_minus_pt = -at::expm1(log_pt);  // accurate where p_t is close to 1
      if (gamma < 1.0) one_minus_pt = one_minus_pt.clamp_min(kMinOneMinusP);
      at::Tensor modulator = at::pow(one_minus_pt, gamma);
      if (options_.detach_modulator) modulator = modulator.detach();
      per_sample = modulator * per_sample;
    }
  } else {
    const at::Tensor y = at::one_hot(in.targets, num_classes_).to(z.scalar_type());
    at::Tensor terms = at::binary_cross_entropy_with_logits(z, y, {}, {}, at::Reduction::None);
    if (gamma > 0.0) {
      // (1-p_t)^gamma written as the CB code does, exp(-gamma (y z + log(1 + e^-z))): finite
      // and smooth everywhere, also for gamma < 1.
      at::Tensor modulator = at::exp(-gamma * (y * z + at::softplus(-z)));
      if (options_.detach_modulator) modulator = modulator.detach();
      terms = modulator * terms;
    }
    if (options_.alpha >= 0.0)
      terms = terms * (options_.alpha * y + (1.0 - options_.alpha) * (1.0 - y));
    per_sample = terms.sum(1);
  }
  if (w_y.defined()) per_sample = w_y * per_sample;
  return reduce(per_sample, w_y, options_.reduction);
}

NamedTensors FocalLoss::class_vectors() const {
  if (!weights_.defined()) return {};
  return {{"weights", weights_.f32()}};
}

}  // namespace tailor::plugins
