// cosine: logits = s <f/|f|, w_c/|w_c|>, LDAM's NormedLinear.
#include "cosine.hpp"

#include <ATen/ATen.h>
#include <torch/utils.h>

namespace tailor::plugins {

CosineHead::CosineHead(const Options& options, const HeadContext& context)
    : options_(options), module_(std::make_shared<torch::nn::Module>("CosineHead")) {
  weight_ =
      module_->register_parameter("weight", at::empty({context.num_classes, context.in_features}));
  reset_parameters();
}

void CosineHead::reset_parameters() {
  torch::NoGradGuard no_grad;
  weight_.uniform_(-1, 1);  // LDAM's NormedLinear: uniform(-1, 1); rows are normalised in use
}

at::Tensor CosineHead::logits(const at::Tensor& f, const at::Tensor& w) const {
  const at::Tensor fn = f / f.norm(2, 1, /*keepdim=*/true).clamp_min(1e-12);
  const at::Tensor wn = w / w.norm(2, 1, /*keepdim=*/true).clamp_min(1e-12);
  return options_.scale * at::linear(fn, wn);
}

at::Tensor CosineHead::forward(const at::Tensor& features) {
  return logits(features, weight_);
}

at::Tensor CosineHead::forward_functional(const at::Tensor& features, const NamedTensors& params) {
  return logits(features, heads::substituted(params, "weight", weight_));
}

}  // namespace tailor::plugins
