// lws: learnable weight scaling, logits = g_c (W f + b)_c (Kang et al. 2020).
#include "lws.hpp"

#include <ATen/ATen.h>
#include <torch/utils.h>

namespace tailor::plugins {

LwsHead::LwsHead(const Options& options, const HeadContext& context)
    : options_(options), module_(std::make_shared<torch::nn::Module>("LwsHead")) {
  weight_ =
      module_->register_parameter("weight", at::empty({context.num_classes, context.in_features}));
  if (options_.bias) bias_ = module_->register_parameter("bias", at::empty({context.num_classes}));
  scales_ = module_->register_parameter("scales", at::ones({context.num_classes}));
  reset_parameters();
}

void LwsHead::reset_parameters() {
  heads::init_linear(weight_, bias_, options_.bias_init);
  torch::NoGradGuard no_grad;
  scales_.fill_(1.0);
}

at::Tensor LwsHead::forward(const at::Tensor& features) {
  return at::linear(features, weight_, bias_) * scales_;
}

at::Tensor LwsHead::forward_functional(const at::Tensor& features, const NamedTensors& params) {
  return at::linear(features, heads::substituted(params, "weight", weight_),
                    heads::substituted(params, "bias", bias_)) *
         heads::substituted(params, "scales", scales_);
}

}  // namespace tailor::plugins
