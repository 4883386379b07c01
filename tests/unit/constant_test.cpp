// Tests of tailor::Constant (sdk/include/tailor/constant.hpp): which values each dtype gets.
#include <tailor/constant.hpp>

#include <catch2/catch.hpp>

#include <ATen/ATen.h>

#include <vector>

TEST_CASE("Constant hands float64 logits the float64 values, others the float32 ones",
          "[constant]") {
  const std::vector<double> values = {0.1, 1.0 / 3.0, 2.5e-9, 7.0};
  const tailor::Constant c(values, c10::Device(c10::kCPU));
  REQUIRE(c.defined());
  CHECK_FALSE(tailor::Constant().defined());

  const at::Tensor f64 = c.like(at::zeros({2, 4}, at::kDouble));
  CHECK(f64.scalar_type() == at::kDouble);
  CHECK(at::equal(f64, at::tensor(values, at::kDouble)));

  // What a loss storing at::tensor(values, at::kFloat) used: the same float32 values.
  const at::Tensor stored = at::tensor(values, at::kFloat);
  const at::Tensor f32 = c.like(at::zeros({2, 4}, at::kFloat));
  CHECK(f32.scalar_type() == at::kFloat);
  CHECK(at::equal(f32, stored));
  CHECK(at::equal(c.f32(), stored));
  // float64 differs from its float32 rounding, or the float64 path would gain nothing.
  CHECK_FALSE(at::equal(f64, f32.to(at::kDouble)));

  // Lower precisions come from the float32 values, as a cast of float32 storage did.
  const at::Tensor bf16 = c.like(at::zeros({1}, at::kBFloat16));
  CHECK(bf16.scalar_type() == at::kBFloat16);
  CHECK(at::equal(bf16, stored.to(at::kBFloat16)));
}

TEST_CASE("Constant keeps a separately computed float32 copy", "[constant]") {
  // E.g. a log computed in float32 arithmetic, which need not be the float64 log rounded.
  const at::Tensor counts = at::tensor({3.0, 7.0, 1000.0}, at::kDouble);
  const tailor::Constant c(counts.log(), counts.to(at::kFloat).log());
  CHECK(at::equal(c.like(at::zeros({1}, at::kFloat)), counts.to(at::kFloat).log()));
  CHECK(at::equal(c.like(at::zeros({1}, at::kDouble)), counts.log()));
}
