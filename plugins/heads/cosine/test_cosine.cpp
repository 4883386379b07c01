// Tests of the cosine head: its logits, its parameters, the README table.
#include "cosine.hpp"

#include <ATen/ATen.h>
#include <torch/utils.h>
#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <string>

using tailor::plugins::CosineHead;
using tailor::testing::head_context;

TEST_CASE("cosine computes scaled cosine similarities", "[head][cosine]") {
  CosineHead::Options o;
  o.scale = 2.0;
  CosineHead h(o, head_context(2, {1, 1}));
  CHECK(h.module().named_parameters().size() == 1);  // no bias
  torch::NoGradGuard g;
  h.module().named_parameters()["weight"].copy_(at::tensor({1.0, 0.0, 0.0, 5.0}).view({2, 2}));
  const at::Tensor f = at::tensor({3.0, 4.0, 0.0, 1.0}, at::kFloat).view({2, 2});
  const at::Tensor l = h.forward(f);
  CHECK(l[0][0].item<double>() == Approx(2.0 * 0.6));
  CHECK(l[0][1].item<double>() == Approx(2.0 * 0.8));
  CHECK(l[1][1].item<double>() == Approx(2.0));
}

TEST_CASE("cosine declares normed logits", "[head][cosine]") {
  STATIC_REQUIRE(CosineHead::kNormedLogits);
}

TEST_CASE("cosine README parameter table matches the options schema", "[head][cosine]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<CosineHead::Options>());
}
