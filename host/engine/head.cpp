// host/engine/head.cpp - linear, cosine, tau-normalised and LWS classifiers.
#include "engine/head.hpp"

#include <ATen/ATen.h>
#include <torch/nn/init.h>

#include <cmath>

namespace tailor::host {

HeadImpl::HeadImpl(int64_t in_features, int64_t num_classes, const HeadOptions& options)
    : options_(options), num_classes_(num_classes) {
  weight_ = register_parameter("weight", at::empty({num_classes, in_features}));
  if (options_.bias && options_.type != HeadOptions::Type::kCosine)
    bias_ = register_parameter("bias", at::empty({num_classes}));
  if (options_.type == HeadOptions::Type::kLws)
    scales_ = register_parameter("scales", at::ones({num_classes}));
  reset_parameters();
}

void HeadImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  const int64_t fan_in = weight_.size(1);
  if (options_.type == HeadOptions::Type::kCosine) {
    // LDAM's NormedLinear: uniform(-1, 1), then each column renormalised.
    weight_.uniform_(-1, 1);
  } else {
    torch::nn::init::kaiming_uniform_(weight_, std::sqrt(5.0));  // torch.nn.Linear's default
  }
  if (bias_.defined()) {
    if (options_.bias_init == HeadOptions::BiasInit::kZero)
      bias_.zero_();
    else if (options_.bias_init == HeadOptions::BiasInit::kPrior)
      bias_.fill_(-std::log(static_cast<double>(std::max<int64_t>(num_classes_ - 1, 1))));
    else {
      const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
      bias_.uniform_(-bound, bound);
    }
  }
  if (scales_.defined()) scales_.fill_(1.0);
}

at::Tensor HeadImpl::logits(const at::Tensor& f, const at::Tensor& w, const at::Tensor& b,
                            const at::Tensor& g) const {
  if (options_.type == HeadOptions::Type::kCosine) {
    const at::Tensor fn = f / f.norm(2, 1, /*keepdim=*/true).clamp_min(1e-12);
    const at::Tensor wn = w / w.norm(2, 1, /*keepdim=*/true).clamp_min(1e-12);
    return options_.scale * at::linear(fn, wn);
  }
  at::Tensor weight = w;
  if (options_.type == HeadOptions::Type::kTauNorm && !is_training() && options_.tau != 0.0)
    weight = w / w.norm(2, 1, /*keepdim=*/true).pow(options_.tau);
  at::Tensor out = at::linear(f, weight, b);
  if (g.defined()) out = out * g;
  return out;
}

at::Tensor HeadImpl::forward(const at::Tensor& features) {
  return logits(features, weight_, bias_, scales_);
}

at::Tensor HeadImpl::forward_with(const at::Tensor& features, const NamedTensors& params) {
  at::Tensor w = weight_, b = bias_, g = scales_;
  for (const auto& [name, t] : params) {
    if (name == "weight")
      w = t;
    else if (name == "bias")
      b = t;
    else if (name == "scales")
      g = t;
  }
  return logits(features, w, b, g);
}

}  // namespace tailor::host
