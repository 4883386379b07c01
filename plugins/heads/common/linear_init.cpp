// heads/common/linear_init.cpp - torch.nn.Linear's initialisation and parameter lookup.
#include "common/linear_init.hpp"

#include <ATen/ATen.h>
#include <torch/nn/init.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>

namespace tailor::heads {

void init_linear(at::Tensor& weight, at::Tensor& bias, BiasInit init) {
  torch::NoGradGuard no_grad;
  const int64_t fan_in = weight.size(1);
  torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));  // torch.nn.Linear's default
  if (!bias.defined()) return;
  if (init == BiasInit::kZero) {
    bias.zero_();
  } else if (init == BiasInit::kPrior) {
    bias.fill_(-std::log(static_cast<double>(std::max<int64_t>(weight.size(0) - 1, 1))));
  } else {
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    bias.uniform_(-bound, bound);
  }
}

at::Tensor substituted(const NamedTensors& params, const char* name, const at::Tensor& own) {
  for (const auto& [key, t] : params)
    if (key == name) return t;
  return own;
}

}  // namespace tailor::heads
