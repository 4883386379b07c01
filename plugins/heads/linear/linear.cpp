// linear: logits = W f + b, torch.nn.Linear.
#include "linear.hpp"

#include <ATen/ATen.h>
#include <torch/utils.h>

namespace tailor::plugins {

LinearHead::LinearHead(const Options& options, const HeadContext& context)
    : options_(options), module_(std::make_shared<torch::nn::Module>("LinearHead")) {
  weight_ =
      module_->register_parameter("weight", at::empty({context.num_classes, context.in_features}));
  if (options_.bias) bias_ = module_->register_parameter("bias", at::empty({context.num_classes}));
  reset_parameters();
}

void LinearHead::reset_parameters() {
  heads::init_linear(weight_, bias_, options_.bias_init);
}

at::Tensor LinearHead::forward(const at::Tensor& features) {
  return at::linear(features, weight_, bias_);
}

at::Tensor LinearHead::forward_functional(const at::Tensor& features, const NamedTensors& params) {
  return at::linear(features, heads::substituted(params, "weight", weight_),
                    heads::substituted(params, "bias", bias_));
}

}  // namespace tailor::plugins
