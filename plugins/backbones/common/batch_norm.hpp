// backbones/common/batch_norm: BatchNorm2d with substituted affine parameters, the building
// block of the backbones' forward_functional, and SyncBatchNorm for data-parallel training.
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

/// Training-mode BatchNorm2d over the whole data-parallel batch (SyncBatchNorm): the mean, then
/// the variance, each summed over the ranks (two all-reduces, differentiable: the gradient that
/// reaches `x` includes every rank's loss), the running statistics updated from them as
/// torch::nn::BatchNorm2d would from one batch of every rank's rows. In one process it is
/// `bn(x)` up to float rounding.
at::Tensor sync_batch_norm(const at::Tensor& x, torch::nn::BatchNorm2d& bn);

/// `bn(x)`, or sync_batch_norm(x, bn) when `sync` and `bn` is training: what a backbone calls
/// for each BatchNorm when it honours BackboneContext::sync_batchnorm.
at::Tensor bn_forward(const at::Tensor& x, torch::nn::BatchNorm2d& bn, bool sync);

}  // namespace tailor::plugins
