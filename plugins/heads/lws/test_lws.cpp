// Tests of the lws head: its logits, its parameters, the README table.
#include "lws.hpp"

#include <ATen/ATen.h>
#include <torch/utils.h>
#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <string>

using tailor::plugins::LwsHead;
using tailor::testing::head_context;

TEST_CASE("lws multiplies each class by a learnable scale", "[head][lws]") {
  LwsHead::Options o;
  o.bias = false;
  LwsHead h(o, head_context(2, {1, 1}));
  auto params = h.module().named_parameters();
  CHECK(at::equal(params["scales"], at::ones({2})));
  torch::NoGradGuard g;
  params["weight"].copy_(at::eye(2));
  params["scales"].copy_(at::tensor({1.0, 3.0}));
  const at::Tensor f = at::tensor({3.0, 4.0, 0.0, 1.0}, at::kFloat).view({2, 2});
  CHECK(h.forward(f)[0][1].item<double>() == Approx(12.0));
  const at::Tensor g2 = at::tensor({1.0, 0.5}, at::kFloat);
  CHECK(h.forward_functional(f, {{"scales", g2}})[0][1].item<double>() == Approx(2.0));
  h.reset_parameters();
  CHECK(at::equal(h.module().named_parameters()["scales"], at::ones({2})));
}

TEST_CASE("lws README parameter table matches the options schema", "[head][lws]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<LwsHead::Options>());
}
