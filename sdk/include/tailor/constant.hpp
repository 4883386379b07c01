// tailor/constant.hpp - a loss constant kept in float64, handed out in the logits' dtype.
#pragma once

#include <ATen/ATen.h>

#include <utility>
#include <vector>

namespace tailor {

/// A constant tensor of a loss (class weights, margins, log counts, offsets, centroids, ...)
/// held twice on the loss's device: in float64, and as the float32 values the loss computes
/// with at every other precision.
///
/// like(z) returns the float64 values when z is float64, so a float64 computation sees the
/// constant at full precision; for any other dtype it returns the float32 values cast to z's
/// dtype, exactly what a loss that stores its constants in float32 computes. The float32 copy
/// is the float64 values rounded once (what at::tensor(values, at::kFloat) stores) unless the
/// caller supplies one computed otherwise, e.g. in float32 arithmetic.
class Constant {
 public:
  Constant() = default;
  /// From float64 values; the float32 copy is their rounding.
  Constant(const std::vector<double>& values, c10::Device device)
      : Constant(at::tensor(values, at::kDouble).to(device)) {}
  /// From a floating tensor (converted to float64); the float32 copy is its rounding.
  explicit Constant(const at::Tensor& values)
      : f64_(values.to(at::kDouble)), f32_(f64_.to(at::kFloat)) {}
  /// From float64 values and a float32 copy computed separately (same shape and device).
  Constant(at::Tensor f64, at::Tensor f32) : f64_(std::move(f64)), f32_(std::move(f32)) {}

  bool defined() const { return f64_.defined(); }
  /// The values in the dtype and on the device of `z` (see the class comment).
  at::Tensor like(const at::Tensor& z) const {
    return z.scalar_type() == at::kDouble ? f64_.to(z.device()) : f32_.to(z.options());
  }
  /// The float32 values (undefined when the constant is).
  const at::Tensor& f32() const { return f32_; }
  /// The float64 values (undefined when the constant is).
  const at::Tensor& f64() const { return f64_; }

 private:
  at::Tensor f64_;
  at::Tensor f32_;
};

}  // namespace tailor
