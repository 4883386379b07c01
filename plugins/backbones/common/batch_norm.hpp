// backbones/common/batch_norm: BatchNorm2d with substituted affine parameters, the building
// block of the backbones' forward_functional.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/modules/batchnorm.h>

namespace tailor::plugins {

/// `bn` applied to `x` with `weight` and `bias` in place of its own affine parameters: the
/// arithmetic of torch::nn::BatchNorm2d::forward, including its update of the running
/// statistics and of num_batches_tracked in training mode (momentum None: the cumulative
/// average). Differentiable with respect to `x`, `weight` and `bias` to any order; never fused.
at::Tensor batch_norm_with(const at::Tensor& x, torch::nn::BatchNorm2d& bn,
                           const at::Tensor& weight, const at::Tensor& bias);

}  // namespace tailor::plugins
