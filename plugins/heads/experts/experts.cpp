// experts: K independent classifiers, one per expert of a multi-expert backbone (RIDE, SADE).
#include "experts.hpp"

#include "common/linear_init.hpp"

#include <ATen/ATen.h>
#include <torch/utils.h>

#include <string>

namespace tailor::plugins {

namespace {

std::string shape_text(at::IntArrayRef sizes) {
  std::string s = "[";
  for (size_t i = 0; i < sizes.size(); ++i) s += (i ? ", " : "") + std::to_string(sizes[i]);
  return s + "]";
}

}  // namespace

ExpertsHead::ExpertsHead(const Options& options, const HeadContext& context)
    : options_(options),
      num_experts_(context.num_experts),
      num_classes_(context.num_classes),
      in_features_(context.in_features),
      module_(std::make_shared<torch::nn::Module>("ExpertsHead")) {
  TAILOR_CHECK(num_experts_ >= 1, "experts: the backbone reports ", num_experts_,
               " experts; it needs at least 1");
  TAILOR_CHECK(in_features_ >= 1 && num_classes_ >= 1, "experts: needs features and classes, got ",
               in_features_, " features and ", num_classes_, " classes");
  weight_ =
      module_->register_parameter("weight", at::empty({num_experts_, num_classes_, in_features_}));
  if (!options_.normalize)
    bias_ = module_->register_parameter("bias", at::empty({num_experts_, num_classes_}));
  // Registered last, so that with aggregation = mean the module, its parameter names and the
  // draws of weight (and bias) stay what they are without it; filling it draws nothing.
  if (options_.aggregation == Aggregation::kWeights)
    expert_weights_ = module_->register_parameter("expert_weights", at::empty({num_experts_}));
  reset_parameters();
}

void ExpertsHead::reset_parameters() {
  torch::NoGradGuard no_grad;
  // SADE's w starts at 1/K each (softmax: the plain mean); it draws nothing from the generator.
  if (expert_weights_.defined()) expert_weights_.fill_(1.0 / static_cast<double>(num_experts_));
  if (options_.normalize) {
    // NormedLinear (LDAM-DRW, RIDE, SADE): uniform(-1, 1), then every class vector rescaled to
    // unit length, with the official arithmetic: renorm_(2, <class dim>, 1e-5).mul_(1e5).
    weight_.uniform_(-1, 1);
    weight_.view({num_experts_ * num_classes_, in_features_}).renorm_(2, 0, 1e-5).mul_(1e5);
    return;
  }
  // One torch.nn.Linear per expert, drawn in expert order (weight, then bias), as the linear
  // head draws its single one.
  for (int64_t k = 0; k < num_experts_; ++k) {
    at::Tensor weight = weight_[k], bias = bias_[k];
    heads::init_linear(weight, bias, heads::BiasInit::kDefault);
  }
}

at::Tensor ExpertsHead::forward(const at::Tensor& features) {
  TAILOR_CHECK(
      features.dim() == 3 && features.size(0) == num_experts_ && features.size(2) == in_features_,
      "experts: features must be [K, N, D] = [", num_experts_, ", N, ", in_features_,
      "] (K experts of the backbone, D its feature_dim), got ", shape_text(features.sizes()));
  if (!options_.normalize)
    return at::baddbmm(bias_.unsqueeze(1), features, weight_.transpose(1, 2));
  const at::Tensor fn = features / features.norm(2, 2, /*keepdim=*/true).clamp_min(1e-12);
  const at::Tensor wn = weight_ / weight_.norm(2, 2, /*keepdim=*/true).clamp_min(1e-12);
  return options_.scale * at::bmm(fn, wn.transpose(1, 2));
}

at::Tensor ExpertsHead::aggregate(const at::Tensor& expert_logits) {
  TAILOR_CHECK(expert_logits.dim() == 3 && expert_logits.size(0) == num_experts_ &&
                   expert_logits.size(2) == num_classes_,
               "experts: expert logits must be [K, N, C] = [", num_experts_, ", N, ", num_classes_,
               "], got ", shape_text(expert_logits.sizes()));
  switch (options_.aggregation) {
    case Aggregation::kMean:
      return expert_logits.mean(0);
    case Aggregation::kWeights: {
      const at::Tensor a = at::softmax(expert_weights_, 0).to(expert_logits.scalar_type());
      return (a.view({num_experts_, 1, 1}) * expert_logits).sum(0);
    }
  }
  // Unreachable: every Aggregation is handled above, and options only hold listed choices.
  throw InternalError("experts: aggregation value " +
                      std::to_string(static_cast<int>(options_.aggregation)) + " has no case");
}

}  // namespace tailor::plugins
