// Finite-difference check of a loss's gradient w.r.t. the logits.
#include <tailor/testing/gradient_check.hpp>

#include <tailor/error.hpp>

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/autograd.h>

#include <cmath>
#include <limits>
#include <sstream>

namespace tailor::testing {

namespace {

std::string shape_of(const at::Tensor& t) {
  std::ostringstream s;
  for (int64_t d = 0; d < t.dim(); ++d) s << (d ? ", " : "") << t.size(d);
  return s.str();
}

// The multi-dimensional index of element `flat` of a contiguous tensor of shape `sizes`.
std::vector<int64_t> unravel(int64_t flat, at::IntArrayRef sizes) {
  std::vector<int64_t> index(sizes.size());
  for (size_t d = sizes.size(); d-- > 0;) {
    index[d] = flat % sizes[d];
    flat /= sizes[d];
  }
  return index;
}

// forward() of `input` with `logits` in place of its logits, as a double.
double value_at(Loss& loss, const LossInput& input, const at::Tensor& logits) {
  LossInput in = input;
  in.logits = logits;
  return loss.forward(in).item<double>();
}

}  // namespace

GradientCheck check_loss_gradient(Loss& loss, const LossInput& input,
                                  const GradientCheckOptions& options) {
  TAILOR_CHECK(input.logits.defined() && input.logits.numel() > 0,
               "check_loss_gradient: input.logits is undefined or empty; give it [N, C] logits");
  TAILOR_CHECK(options.step > 0.0 && options.atol > 0.0 && options.rtol >= 0.0,
               "check_loss_gradient: step and atol must be > 0 (a derivative of exactly 0 "
               "needs an absolute tolerance), rtol >= 0");
  c10::AutoGradMode enable_grad(true);
  LossInput in = input;
  const at::Tensor base = input.logits.detach().to(at::kDouble).contiguous().clone();
  in.logits = base.clone().requires_grad_(true);
  if (in.features.defined() && in.features.is_floating_point())
    in.features = in.features.detach().to(at::kDouble);

  const at::Tensor value = loss.forward(in);
  TAILOR_CHECK(value.defined() && value.numel() == 1,
               "check_loss_gradient: forward() must return a scalar, got [", shape_of(value), "]");
  TAILOR_CHECK(value.scalar_type() == at::kDouble, "check_loss_gradient: forward() returned ",
               value.scalar_type(),
               " for float64 logits; compute in the logits' dtype so the check is exact");
  TAILOR_CHECK(value.requires_grad(),
               "check_loss_gradient: the loss does not depend on the logits through autograd "
               "(its value does not require grad); do not detach the logits");
  // grad() rather than backward(): the loss's own parameters keep whatever .grad they had.
  const at::Tensor analytic =
      torch::autograd::grad({value.sum()}, {in.logits})[0].to(at::kDouble).contiguous();

  GradientCheck result;
  result.ok = true;
  double worst_ratio = -1.0;
  int64_t worst = 0;
  const int64_t n = base.numel();
  const double h = options.step;
  {
    at::NoGradGuard no_grad;
    at::Tensor probe = base.clone();
    double* x = probe.data_ptr<double>();
    const double* a = analytic.data_ptr<double>();
    for (int64_t i = 0; i < n; ++i) {
      const double saved = x[i];
      x[i] = saved + h;
      const double up = value_at(loss, in, probe);
      x[i] = saved - h;
      const double down = value_at(loss, in, probe);
      x[i] = saved;
      const double numeric = (up - down) / (2.0 * h);
      const double error = std::abs(a[i] - numeric);
      const double tolerance = options.atol + options.rtol * std::abs(numeric);
      const double ratio = std::isfinite(a[i]) && std::isfinite(numeric)
                               ? error / tolerance
                               : std::numeric_limits<double>::infinity();
      if (!(ratio <= 1.0)) result.ok = false;
      if (std::isfinite(error) && error > result.max_abs_error) result.max_abs_error = error;
      if (ratio > worst_ratio) {
        worst_ratio = ratio;
        worst = i;
        result.autograd = a[i];
        result.finite_difference = numeric;
      }
    }
  }
  result.worst = unravel(worst, base.sizes());

  std::ostringstream m;
  m << "gradient check of the loss w.r.t. logits [" << shape_of(base)
    << "] (float64, central differences, h = " << h << "): worst element logits[";
  for (size_t d = 0; d < result.worst.size(); ++d) m << (d ? ", " : "") << result.worst[d];
  const double error = std::abs(result.autograd - result.finite_difference);
  const double tolerance = options.atol + options.rtol * std::abs(result.finite_difference);
  m << "]: autograd " << result.autograd << ", finite difference " << result.finite_difference
    << ", |difference| " << error << (result.ok ? " <= " : " > ") << "tolerance " << tolerance
    << (result.ok ? ": ok" : ": FAIL");
  result.message = m.str();
  return result;
}

}  // namespace tailor::testing
