// backbones/common/batch_norm: BatchNorm2d with substituted affine parameters.
#include "common/batch_norm.hpp"

#include <ATen/Context.h>
#include <ATen/ops/batch_norm.h>

namespace tailor::plugins {

at::Tensor batch_norm_with(const at::Tensor& x, torch::nn::BatchNorm2d& bn,
                           const at::Tensor& weight, const at::Tensor& bias) {
  const auto& opt = bn->options;
  double momentum = opt.momentum().value_or(0.0);
  if (bn->is_training() && opt.track_running_stats() && bn->num_batches_tracked.defined()) {
    bn->num_batches_tracked += 1;
    if (!opt.momentum()) momentum = 1.0 / bn->num_batches_tracked.item<double>();
  }
  return at::batch_norm(x, weight, bias, bn->running_mean, bn->running_var,
                        bn->is_training() || !opt.track_running_stats(), momentum, opt.eps(),
                        at::globalContext().userEnabledCuDNN());
}

}  // namespace tailor::plugins
