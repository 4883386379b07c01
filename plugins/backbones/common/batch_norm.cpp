// backbones/common/batch_norm: BatchNorm2d with substituted affine parameters.
#include "common/batch_norm.hpp"

#include <ATen/Context.h>
#include <ATen/ops/batch_norm.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/full.h>
#include <ATen/ops/rsqrt.h>
#include <c10/core/GradMode.h>
#include <tailor/distributed.hpp>

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

at::Tensor sync_batch_norm(const at::Tensor& x, torch::nn::BatchNorm2d& bn) {
  TORCH_CHECK(x.dim() >= 2, "sync_batch_norm: input of shape ", x.sizes());
  const auto& opt = bn->options;
  const int64_t c = x.size(1);
  std::vector<int64_t> dims = {0}, shape(static_cast<size_t>(x.dim()), 1);
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  shape[1] = c;
  // Statistics in float32 at least, whatever the activations' dtype.
  const at::Tensor xf = x.scalar_type() == at::kDouble ? x : x.to(at::kFloat);
  const double local = static_cast<double>(x.numel() / c);
  // Two passes over the global batch: the mean, then the centred sum of squares, which does
  // not cancel as E[x^2] - E[x]^2 would.
  const at::Tensor first =
      distributed::all_reduce_sum(at::cat({xf.sum(dims), at::full({1}, local, xf.options())}));
  const double total = first[c].item<double>();
  TORCH_CHECK(total > 1,
              "sync_batch_norm: BatchNorm needs more than one value per channel "
              "over the ranks, got ",
              total);
  const at::Tensor mean = first.narrow(0, 0, c) / total;
  const at::Tensor centred = xf - mean.view(shape);
  const at::Tensor var = distributed::all_reduce_sum((centred * centred).sum(dims)) / total;
  at::Tensor y = centred * at::rsqrt(var + opt.eps()).view(shape);
  if (opt.affine()) y = y * bn->weight.view(shape) + bn->bias.view(shape);
  if (opt.track_running_stats()) {
    at::NoGradGuard no_grad;
    double momentum = opt.momentum().value_or(0.0);
    if (bn->num_batches_tracked.defined()) {
      bn->num_batches_tracked += 1;
      if (!opt.momentum()) momentum = 1.0 / bn->num_batches_tracked.item<double>();
    }
    bn->running_mean.mul_(1.0 - momentum)
        .add_(mean.detach().to(bn->running_mean.dtype()), momentum);
    bn->running_var.mul_(1.0 - momentum)
        .add_((var.detach() * (total / (total - 1.0))).to(bn->running_var.dtype()), momentum);
  }
  return y.to(x.scalar_type());
}

at::Tensor bn_forward(const at::Tensor& x, torch::nn::BatchNorm2d& bn, bool sync) {
  return sync && bn->is_training() ? sync_batch_norm(x, bn) : bn(x);
}

}  // namespace tailor::plugins
