// scaled_linear: the template of an out-of-tree tailor head plugin. logits = scale (W f + b),
// with W [C, D] and b [C] initialised as torch.nn.Linear initialises them, a functional
// forward for the meta-learning look-ahead, and reset_parameters() for a stage's
// reinit = ["head"].
//
// The class lives in this header so that test_scaled_linear.cpp can construct it;
// scaled_linear.cpp turns it into the plugin.
#pragma once

#include <tailor/components.hpp>
#include <tailor/error.hpp>
#include <tailor/options.hpp>

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/utils.h>

#include <cmath>
#include <memory>

namespace scaled_linear {

class ScaledLinear final : public tailor::Head {
 public:
  struct Options {
    double scale = 1.0;

    template <class V>
    void visit(V& v) {
      v("scale", scale, "s: the logits are s (W f + b).", tailor::greater_than(0.0));
    }
  };

  // Created once, on the CPU, with LibTorch's generator seeded by the run: register every
  // parameter on module() (the host optimises them as head.weight and head.bias), then draw.
  ScaledLinear(const Options& options, const tailor::HeadContext& context)
      : options_(options), module_(std::make_shared<torch::nn::Module>("ScaledLinear")) {
    TAILOR_CHECK(context.in_features > 0 && context.num_classes > 0,
                 "scaled_linear: needs features and classes, got in_features ", context.in_features,
                 " and num_classes ", context.num_classes);
    weight_ = module_->register_parameter("weight",
                                          at::empty({context.num_classes, context.in_features}));
    bias_ = module_->register_parameter("bias", at::empty({context.num_classes}));
    reset_parameters();
  }

  torch::nn::Module& module() override { return *module_; }

  // [N, D] -> [N, C].
  at::Tensor forward(const at::Tensor& features) override {
    return logits(features, weight_, bias_);
  }

  // The same with "weight" and "bias" taken from `params` where it names them (the names of
  // module().named_parameters()); differentiable w.r.t. the substituted tensors.
  at::Tensor forward_functional(const at::Tensor& features,
                                const tailor::NamedTensors& params) override {
    return logits(features, substituted(params, "weight", weight_),
                  substituted(params, "bias", bias_));
  }

  // torch.nn.Linear's initialisation: kaiming_uniform(a = sqrt(5)) of W is U(-1/sqrt(D),
  // 1/sqrt(D)), and b is drawn from the same range, weight first. at:: random functions use
  // LibTorch's default generator, which the host seeds, so the draws are reproducible.
  void reset_parameters() override {
    torch::NoGradGuard no_grad;
    const double bound = 1.0 / std::sqrt(static_cast<double>(weight_.size(1)));
    weight_.uniform_(-bound, bound);
    bias_.uniform_(-bound, bound);
  }

 private:
  at::Tensor logits(const at::Tensor& features, const at::Tensor& weight,
                    const at::Tensor& bias) const {
    return at::linear(features, weight, bias) * options_.scale;
  }

  static at::Tensor substituted(const tailor::NamedTensors& params, const char* name,
                                const at::Tensor& own) {
    for (const auto& [key, tensor] : params)
      if (key == name) return tensor;
    return own;
  }

  Options options_;
  std::shared_ptr<torch::nn::Module> module_;
  at::Tensor weight_, bias_;
};

}  // namespace scaled_linear
