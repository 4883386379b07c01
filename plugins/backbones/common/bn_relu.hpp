// backbones/common/bn_relu: training-mode BatchNorm, optional residual add and ReLU as one
// autograd node, for the channels-last CPU training step.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/modules/batchnorm.h>

namespace tailor::plugins {

/// True when `bn_relu_train` computes relu(bn(x) [+ residual]) for `x` itself: `bn` is in
/// training mode with running statistics, and `x` is a float32 CPU tensor in channels-last
/// layout. Otherwise callers use the unfused ATen ops.
bool bn_relu_fusable(const at::Tensor& x, const torch::nn::BatchNorm2d& bn);

/// relu(bn(x) + residual) (residual undefined: relu(bn(x))) with the running statistics and
/// num_batches_tracked updated exactly as torch::nn::BatchNorm2d::forward updates them.
///
/// Why: unfused, forward runs batch_norm (statistics, then normalisation), add and relu, and
/// backward threshold_backward, add's gradient and batch_norm_backward (two passes): about
/// nine passes over the activations. Fused, forward is one statistics pass plus one output
/// pass and backward two passes. Sums are taken in float over fixed 256-row chunks (from a
/// pivot row, so that E[x^2] - E[x]^2 does not cancel) and the chunk sums added in double in
/// chunk order: results do not depend on the thread count, and equal the unfused ops up to
/// float rounding, not bit for bit. A NaN propagates as through ATen's ops.
///
/// The backward is not itself differentiable (second-order gradients need the unfused ops:
/// forward_functional never fuses). Requires bn_relu_fusable(x, bn).
///
/// With `sync` (SyncBatchNorm in a data-parallel run) the statistics are those of every rank's
/// rows: one all-reduce of [sum, sum of squares, rows] in forward and one of the gradient sums
/// in backward; dweight and dbias stay this rank's.
at::Tensor bn_relu_train(const at::Tensor& x, torch::nn::BatchNorm2d& bn,
                         const at::Tensor& residual = {}, bool sync = false);

/// relu(bn(x) + residual) (residual undefined: relu(bn(x))): bn_relu_train when `fuse` and
/// bn_relu_fusable(x, bn), else bn_forward(x, bn, sync), add and relu. What a backbone's forward
/// calls.
at::Tensor bn_relu(const at::Tensor& x, torch::nn::BatchNorm2d& bn, bool fuse,
                   const at::Tensor& residual = {}, bool sync = false);

}  // namespace tailor::plugins
