// mixup: input mixup with one lambda per batch (Zhang et al., ICLR 2018), MiSLAS stage 1.
#include "mixup.hpp"

#include "../common/draws.hpp"

#include <tailor/random.hpp>

#include <ATen/ATen.h>

#include <algorithm>

namespace tailor::plugins {

namespace {

void check_batch(const at::Tensor& inputs) {
  TAILOR_CHECK(inputs.defined() && inputs.dim() >= 1,
               "mixup: inputs must be a batch [N, ...] of rank >= 1, got ",
               inputs.defined() ? inputs.dim() : 0, " dimensions");
}

}  // namespace

MixOutput mixup(const at::Tensor& inputs, const at::Tensor& targets, double lambda,
                const std::vector<int64_t>& permutation) {
  check_batch(inputs);
  const int64_t n = inputs.size(0);
  TAILOR_CHECK(targets.defined() && targets.dim() == 1 && targets.size(0) == n,
               "mixup: targets must be [", n, "], one per sample");
  TAILOR_CHECK(lambda >= 0.0 && lambda <= 1.0, "mixup: lambda must be in [0, 1], got ", lambda);
  TAILOR_CHECK(static_cast<int64_t>(permutation.size()) == n, "mixup: a permutation of ",
               permutation.size(), " entries for a batch of ", n);
  std::vector<bool> seen(static_cast<size_t>(n), false);
  for (int64_t p : permutation) {
    TAILOR_CHECK(p >= 0 && p < n && !seen[static_cast<size_t>(p)],
                 "mixup: the index list is not a permutation of 0 .. ", n - 1);
    seen[static_cast<size_t>(p)] = true;
  }
  // The permutation goes to the device from page-locked memory, asynchronously: a copy from
  // ordinary memory would wait for the work queued on the GPU at every step.
  at::Tensor staged =
      at::empty({n}, at::TensorOptions().dtype(at::kLong).pinned_memory(inputs.is_cuda()));
  std::copy(permutation.begin(), permutation.end(), staged.data_ptr<int64_t>());
  const at::Tensor index = staged.to(inputs.device(), /*non_blocking=*/staged.is_pinned());
  MixOutput out;
  out.inputs = lambda * inputs + (1.0 - lambda) * inputs.index_select(0, index);
  out.targets_b = targets.index_select(0, index.to(targets.device()));
  const at::ScalarType dtype = inputs.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  out.mix_weight = at::full({n}, lambda, inputs.options().dtype(dtype));
  return out;
}

Mixup::Mixup(const Options& options, const BatchMixContext& /*context*/) : options_(options) {}

MixOutput Mixup::mix(const MixInput& input) {
  check_batch(input.inputs);
  // alpha = 0 is the official lambda = 1: the loss is L(y) exactly, so the batch passes on.
  if (options_.alpha == 0.0) return {};
  // The official order of draws: lambda, then the permutation.
  SampleRng rng(input.seed, 0);
  const double lambda = batch_mixers::beta_draw(rng, options_.alpha, options_.alpha);
  return mixup(input.inputs, input.targets, lambda,
               batch_mixers::permutation(rng, input.inputs.size(0)));
}

}  // namespace tailor::plugins
