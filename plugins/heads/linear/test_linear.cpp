// Tests of the linear head: its logits, its parameters, the README table.
#include "linear.hpp"

#include <ATen/ATen.h>
#include <torch/utils.h>
#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <string>

using tailor::plugins::LinearHead;
using tailor::testing::head_context;

TEST_CASE("linear computes W f + b and draws its bias by bias_init", "[head][linear]") {
  LinearHead::Options o;
  o.bias_init = tailor::heads::BiasInit::kPrior;
  LinearHead h(o, head_context(2, {5, 4, 3, 2, 1}));
  const auto params = h.module().named_parameters();
  CHECK(at::allclose(params["bias"], at::full({5}, -std::log(4.0))));
  torch::NoGradGuard g;
  params["weight"].copy_(at::arange(10, at::kFloat).view({5, 2}));
  const at::Tensor f = at::tensor({3.0, 4.0}, at::kFloat).view({1, 2});
  CHECK(h.forward(f)[0][1].item<double>() == Approx(2 * 3 + 3 * 4 - std::log(4.0)));
  o.bias = false;
  CHECK(LinearHead(o, head_context(2, {1, 1})).module().named_parameters().size() == 1);
}

TEST_CASE("linear draws torch.nn.Linear's initialisation, again on reset", "[head][linear]") {
  torch::manual_seed(3);
  LinearHead h({}, head_context(4, {1, 1, 1}));
  const at::Tensor w0 = h.module().named_parameters()["weight"].clone();
  const double bound = 1.0 / std::sqrt(4.0);  // kaiming_uniform(a = sqrt(5)) on fan_in 4
  CHECK(w0.abs().max().item<double>() <= bound);
  CHECK(h.module().named_parameters()["bias"].abs().max().item<double>() <= bound);
  torch::manual_seed(3);
  h.reset_parameters();
  CHECK(at::equal(h.module().named_parameters()["weight"], w0));
}

TEST_CASE("linear README parameter table matches the options schema", "[head][linear]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<LinearHead::Options>());
}
