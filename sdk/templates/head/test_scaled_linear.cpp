// Tests of scaled_linear with tailor's plugin test kit: options as the host reads them, the
// logits, the functional forward and its gradient, the initialisation, README table.
#include "scaled_linear.hpp"

#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

#include <cmath>

using scaled_linear::ScaledLinear;
using tailor::testing::head_context;
using tailor::testing::options;

namespace {

ScaledLinear head(double scale, int64_t in_features = 4) {
  ScaledLinear::Options o;
  o.scale = scale;
  return ScaledLinear(o, head_context(in_features, {50, 20, 5}));
}

}  // namespace

TEST_CASE("scaled_linear reads its options as the host does", "[scaled_linear]") {
  CHECK(options<ScaledLinear::Options>("", "head").scale == 1.0);
  CHECK(options<ScaledLinear::Options>("scale = 16.0", "head").scale == 16.0);
  CHECK_THROWS_WITH(options<ScaledLinear::Options>("scale = 0.0", "head"),
                    Catch::Contains("[head] scale must be > 0, got 0"));
}

TEST_CASE("scaled_linear computes scale (W f + b)", "[scaled_linear]") {
  ScaledLinear h = head(2.5);
  const auto params = h.module().named_parameters();
  REQUIRE(params.size() == 2);
  CHECK(params["weight"].sizes() == at::IntArrayRef{3, 4});
  CHECK(params["bias"].sizes() == at::IntArrayRef{3});
  const at::Tensor f = at::randn({6, 4});
  const at::Tensor logits = h.forward(f);
  CHECK(logits.sizes() == at::IntArrayRef{6, 3});
  CHECK(at::allclose(logits, at::linear(f, params["weight"], params["bias"]) * 2.5));
}

TEST_CASE("scaled_linear's functional forward substitutes parameters by name", "[scaled_linear]") {
  ScaledLinear h = head(3.0);
  const at::Tensor bias = h.module().named_parameters()["bias"].detach().clone();
  const at::Tensor f = at::randn({5, 4});
  const at::Tensor w = at::randn({3, 4}).requires_grad_(true);
  const at::Tensor out = h.forward_functional(f, {{"weight", w}});
  CHECK(at::allclose(out, (f.matmul(w.detach().t()) + bias) * 3.0, 1e-5, 1e-6));
  // d sum(s (f W^T + b)) / dW[c, d] = s sum_n f[n, d]; the head's own weight is untouched.
  out.sum().backward();
  REQUIRE(w.grad().defined());
  CHECK(at::allclose(w.grad(), (f.sum(0) * 3.0).expand({3, 4}), 1e-5, 1e-6));
  CHECK_FALSE(h.module().named_parameters()["weight"].grad().defined());
  // No substitution is forward().
  CHECK(at::allclose(h.forward_functional(f, {}), h.forward(f)));
}

TEST_CASE("scaled_linear draws torch.nn.Linear's initialisation, again on reset",
          "[scaled_linear]") {
  torch::manual_seed(3);
  ScaledLinear h = head(1.0, 16);
  const at::Tensor w0 = h.module().named_parameters()["weight"].detach().clone();
  const at::Tensor b0 = h.module().named_parameters()["bias"].detach().clone();
  const double bound = 1.0 / std::sqrt(16.0);  // kaiming_uniform(a = sqrt(5)) on fan_in 16
  CHECK(w0.abs().max().item<double>() <= bound);
  CHECK(b0.abs().max().item<double>() <= bound);
  h.reset_parameters();
  CHECK_FALSE(at::equal(h.module().named_parameters()["weight"], w0));
  CHECK_FALSE(at::equal(h.module().named_parameters()["bias"], b0));
  // The draws come from LibTorch's generator: the same seed draws the same weights.
  torch::manual_seed(3);
  h.reset_parameters();
  CHECK(at::equal(h.module().named_parameters()["weight"], w0));
  CHECK(at::equal(h.module().named_parameters()["bias"], b0));
}

TEST_CASE("scaled_linear README parameter table matches the options schema", "[scaled_linear]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<ScaledLinear::Options>());
}
