// tailor/testing/gradient_check.hpp - a loss's autograd gradient w.r.t. the logits against
// central finite differences, in float64.
//
//   MyLoss loss(options, tailor::testing::loss_context({50, 20, 5}));
//   const auto check = tailor::testing::check_loss_gradient(loss, {logits, targets});
//   INFO(check.message);
//   CHECK(check.ok);
#pragma once

#include <tailor/components.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace tailor::testing {

/// Step and tolerances of check_loss_gradient(). An element passes when
/// |autograd - finite difference| <= atol + rtol * |finite difference|.
struct GradientCheckOptions {
  double step = 1e-6;  ///< h of the central difference (f(x + h) - f(x - h)) / 2h; > 0
  double atol = 1e-6;  ///< > 0, so that a derivative of exactly 0 can pass
  double rtol = 1e-4;  ///< >= 0
};

/// What check_loss_gradient() found. `worst` is the element whose error is the largest
/// multiple of its tolerance (a non-finite derivative counts as infinitely far off).
struct GradientCheck {
  bool ok = false;                 ///< every element within its tolerance
  std::vector<int64_t> worst;      ///< index of the worst element in the logits, e.g. {3, 1}
  double autograd = 0.0;           ///< d loss / d logits at `worst`, from backward()
  double finite_difference = 0.0;  ///< the same derivative from central differences
  double max_abs_error = 0.0;      ///< largest |autograd - finite difference| of all elements
  /// One line for test output, e.g. "gradient check of the loss w.r.t. logits [8, 3]
  /// (float64, central differences, h = 1e-06): worst element logits[3, 1]: autograd
  /// 0.2124, finite difference 0.4248, |difference| 0.2124 > tolerance 4.349e-05: FAIL".
  std::string message;
};

/// Compares the gradient of `loss.forward(input)` w.r.t. `input.logits` computed by autograd
/// with central differences of the same forward, one logit at a time (2 * numel + 1 calls
/// of forward()). The logits and floating-point features are converted to float64 first,
/// so the loss must compute in the dtype of its inputs and its forward must not change
/// the loss's state (no running averages updated per call). Throws tailor::Error when the
/// input has no logits, or forward() returns something other than a float64 scalar that
/// requires grad (a loss that casts to float32 or detaches the logits), or when a step or
/// tolerance is out of range. The loss's own parameters' .grad are left untouched.
GradientCheck check_loss_gradient(Loss& loss, const LossInput& input,
                                  const GradientCheckOptions& options = {});

}  // namespace tailor::testing
