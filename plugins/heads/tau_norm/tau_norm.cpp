// tau_norm: a linear classifier whose weights are divided by |w_c|^tau at evaluation.
#include "tau_norm.hpp"

#include <ATen/ATen.h>
#include <torch/utils.h>

namespace tailor::plugins {

TauNormHead::TauNormHead(const Options& options, const HeadContext& context)
    : options_(options), module_(std::make_shared<torch::nn::Module>("TauNormHead")) {
  weight_ =
      module_->register_parameter("weight", at::empty({context.num_classes, context.in_features}));
  if (options_.bias) bias_ = module_->register_parameter("bias", at::empty({context.num_classes}));
  reset_parameters();
}

void TauNormHead::reset_parameters() {
  heads::init_linear(weight_, bias_, options_.bias_init);
}

// In evaluation (the module not training) w_c / |w_c|^tau; tau = 0 is the plain classifier.
at::Tensor TauNormHead::logits(const at::Tensor& f, const at::Tensor& w,
                               const at::Tensor& b) const {
  at::Tensor weight = w;
  if (!module_->is_training() && options_.tau != 0.0)
    weight = w / w.norm(2, 1, /*keepdim=*/true).pow(options_.tau);
  return at::linear(f, weight, b);
}

void TauNormHead::set_eval_knob(double value) {
  TAILOR_CHECK(value >= 0, "tau_norm: tau must be >= 0, got ", value,
               "; fix the values of [eval] tau_sweep");
  options_.tau = value;
}

at::Tensor TauNormHead::forward(const at::Tensor& features) {
  return logits(features, weight_, bias_);
}

at::Tensor TauNormHead::forward_functional(const at::Tensor& features, const NamedTensors& params) {
  return logits(features, heads::substituted(params, "weight", weight_),
                heads::substituted(params, "bias", bias_));
}

}  // namespace tailor::plugins
