// tests/support/mixed_targets.hpp - what every loss with tailor::needs::kMixedTargets must do
// with paired targets (a batch mix's targets_b and mix_weight), checked the same way in each
// loss's test: an unmixed batch computes exactly what the loss computed before mixed batches
// existed (value and gradient, bit for bit), a mixed batch whose weight is 1 everywhere equals
// the unmixed one bit for bit, and a constant weight lambda gives the official criterion
// lambda L(y) + (1 - lambda) L(y_b) to the dtype's tolerance.
#pragma once

#include "golden.hpp"

#include <tailor/components.hpp>

#include <ATen/ATen.h>
#include <catch2/catch.hpp>

#include <utility>

namespace tailor::test {

/// The value of f(z) and its gradient w.r.t. z, for z a fresh leaf copy of `logits`.
template <class F>
std::pair<at::Tensor, at::Tensor> value_and_grad(const at::Tensor& logits, F&& f) {
  at::Tensor z = logits.detach().clone().set_requires_grad(true);
  at::Tensor value = f(z);
  value.backward();
  return {value.detach(), z.grad()};
}

/// `before(logits, targets)` is the loss as it was computed before mixed batches.
template <class Loss, class Before>
void check_mixed_targets(Loss& loss, const at::Tensor& z, const at::Tensor& y,
                         const at::Tensor& y_b, Before&& before) {
  CHECK((loss.needs() & tailor::needs::kMixedTargets) != 0);
  const int64_t n = y.size(0);
  auto with_weight = [&](double lambda) {
    return value_and_grad(z, [&](const at::Tensor& x) {
      tailor::LossInput in{x, y};
      in.targets_b = y_b;
      in.mix_weight = at::full({n}, lambda, x.options());
      return loss.forward(in);
    });
  };
  const auto unmixed = value_and_grad(z, [&](const at::Tensor& x) { return loss.forward({x, y}); });
  const auto old = value_and_grad(z, [&](const at::Tensor& x) { return before(x, y); });
  CHECK(at::equal(unmixed.first, old.first));
  CHECK(at::equal(unmixed.second, old.second));
  const auto ones = with_weight(1.0);
  CHECK(at::equal(ones.first, unmixed.first));
  CHECK(at::equal(ones.second, unmixed.second));
  const auto mixed = with_weight(0.3);
  const auto official = value_and_grad(
      z, [&](const at::Tensor& x) { return 0.3 * before(x, y) + 0.7 * before(x, y_b); });
  const auto tol = tolerance(z.scalar_type());
  CHECK(mixed.first.template item<double>() ==
        Approx(official.first.template item<double>()).epsilon(tol.value));
  CHECK(at::allclose(mixed.second, official.second, tol.rtol, tol.atol));
}

}  // namespace tailor::test
