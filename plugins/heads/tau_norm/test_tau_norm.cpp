// Tests of the tau_norm head: its logits, its parameters, the README table.
#include "tau_norm.hpp"

#include <ATen/ATen.h>
#include <torch/utils.h>
#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <string>

using tailor::plugins::TauNormHead;
using tailor::testing::head_context;

TEST_CASE("tau_norm divides weights by their norm^tau in evaluation only", "[head][tau_norm]") {
  TauNormHead::Options o;
  o.bias = false;
  TauNormHead h(o, head_context(2, {1, 1}));
  torch::NoGradGuard g;
  h.module().named_parameters()["weight"].copy_(at::tensor({2.0, 0.0, 0.0, 4.0}).view({2, 2}));
  const at::Tensor f = at::tensor({3.0, 4.0, 0.0, 1.0}, at::kFloat).view({2, 2});
  CHECK(h.forward(f)[0][1].item<double>() == Approx(16.0));
  h.module().eval();
  CHECK(h.forward(f)[0][1].item<double>() == Approx(4.0));
  CHECK(std::string(h.eval_knob()) == "tau");
  h.set_eval_knob(0.0);
  CHECK(h.eval_knob_value() == 0.0);
  CHECK(h.forward(f)[0][1].item<double>() == Approx(16.0));
  h.set_eval_knob(0.5);
  CHECK(h.forward(f)[0][1].item<double>() == Approx(8.0));
  CHECK_THROWS_WITH(h.set_eval_knob(-1.0), Catch::Contains("tau must be >= 0"));
}

TEST_CASE("tau_norm README parameter table matches the options schema", "[head][tau_norm]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<TauNormHead::Options>());
}
