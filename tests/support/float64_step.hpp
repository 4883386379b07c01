// tests/support/float64_step.hpp: one training step of a float32 backbone against the same
// weights in float64, for the backbone plugins' tests.
#pragma once

#include <torch/torch.h>
#include <catch2/catch.hpp>

namespace tailor::test {

/// Runs one training-mode forward of `net` (float32) and of `reference` (the same weights,
/// already in float64) on `x`, backpropagates sum(features * w) through both, and checks that
/// the features, every parameter's gradient (relative L2 error 1e-3: float32 convolutions) and
/// every buffer (running statistics) agree.
template <class Backbone>
void check_step_matches_float64(Backbone& net, Backbone& reference, const at::Tensor& x,
                                const at::Tensor& w) {
  torch::nn::Module& module = net.module();
  torch::nn::Module& reference_module = reference.module();
  module.train();
  reference_module.train();
  const at::Tensor y = net.forward(x);
  const at::Tensor y_ref = reference.forward(x.to(torch::kDouble).contiguous());
  CHECK(torch::allclose(y.to(torch::kDouble), y_ref, 1e-4, 1e-5));
  (y * w).sum().backward();
  (y_ref * w.to(torch::kDouble)).sum().backward();
  const auto grads_ref = reference_module.named_parameters();
  for (const auto& item : module.named_parameters()) {
    INFO(item.key());
    const at::Tensor ref = grads_ref[item.key()].grad();
    const double error = (item.value().grad().to(torch::kDouble) - ref).norm().item<double>();
    CHECK(error <= 1e-3 * ref.norm().item<double>());
  }
  const auto buffers_ref = reference_module.named_buffers();
  for (const auto& item : module.named_buffers()) {
    INFO(item.key());
    CHECK(torch::allclose(item.value().to(torch::kDouble),
                          buffers_ref[item.key()].to(torch::kDouble), 1e-4, 1e-6));
  }
}

}  // namespace tailor::test
