// Tests of the balanced_softmax loss: golden values, invariances, option checks, README table.
#include "balanced_softmax.hpp"

#include "../../../tests/support/golden.hpp"

#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

using tailor::plugins::BalancedSoftmax;
using tailor::testing::loss_context;
using tailor::testing::options;

TEST_CASE("balanced_softmax matches the PyTorch reference", "[balanced_softmax][golden]") {
  for (const auto& g : tailor::test::load_golden("balanced_softmax"))
    for (const at::ScalarType dtype : {at::kFloat, at::kDouble}) {
      DYNAMIC_SECTION(g.name << " " << dtype) {
        BalancedSoftmax::Options o;
        o.reduction =
            o.kReductions.value(g.options.value("reduction", o.kReductions.name(o.reduction)));
        at::Tensor logits = g.tensor("logits", dtype).set_requires_grad(true);
        BalancedSoftmax loss(
            o, loss_context(g.raw.at("context").at("class_counts").get<std::vector<int64_t>>()));
        tailor::LossInput in;
        in.logits = logits;
        in.targets = g.tensor("targets");
        at::Tensor value = loss.forward(in);
        value.backward();
        const auto tol = tailor::test::tolerance(dtype);
        CHECK(value.item<double>() == Approx(g.scalar("loss")).epsilon(tol.value));
        CHECK(at::allclose(logits.grad(), g.tensor("grad", dtype), tol.rtol, tol.atol));
      }
    }
}

TEST_CASE("balanced_softmax with equal counts is cross-entropy", "[balanced_softmax]") {
  BalancedSoftmax loss(BalancedSoftmax::Options{}, loss_context({7, 7, 7}));
  const at::Tensor z = at::randn({5, 3});
  const at::Tensor y = at::tensor(std::vector<int64_t>{0, 1, 2, 2, 1});
  CHECK(loss.forward({z, y}).item<double>() ==
        Approx(at::cross_entropy_loss(z, y).item<double>()).epsilon(1e-6));
  // Predictions use the raw logits.
  CHECK(at::equal(loss.adjust_logits(z), z));
}

TEST_CASE("balanced_softmax shifts logits by log n", "[balanced_softmax]") {
  BalancedSoftmax loss(BalancedSoftmax::Options{}, loss_context({1, 10, 100}));
  const at::Tensor z = at::zeros({1, 3});
  // -log(n_0 / sum n) = -log(1 / 111).
  CHECK(loss.forward({z, at::zeros({1}, at::kLong)}).item<double>() ==
        Approx(std::log(111.0)).epsilon(1e-6));
}

TEST_CASE("balanced_softmax rejects bad input with clear messages", "[balanced_softmax]") {
  CHECK_THROWS_WITH(BalancedSoftmax(BalancedSoftmax::Options{}, loss_context({3, 0})),
                    Catch::Contains("class 1 has 0 training samples; log n would be -inf"));
  CHECK_THROWS_WITH(
      options<BalancedSoftmax::Options>("reduction = \"batch_mean\""),
      "exp.toml:1:13: [loss] reduction must be one of: mean, sum, got \"batch_mean\"");
}

TEST_CASE("balanced_softmax README parameter table matches the options schema",
          "[balanced_softmax]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<BalancedSoftmax::Options>());
}
