// Tests of the class_balanced loss: golden values, weights, option checks, README table.
#include "class_balanced.hpp"

#include "../../../tests/support/class_vectors.hpp"
#include "../../../tests/support/golden.hpp"

#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

using tailor::plugins::ClassBalancedLoss;
using tailor::testing::loss_context;
using tailor::testing::options;

TEST_CASE("class_balanced matches the reference of the official code", "[class_balanced][golden]") {
  for (const auto& g : tailor::test::load_golden("class_balanced"))
    for (const at::ScalarType dtype : {at::kFloat, at::kDouble}) {
      DYNAMIC_SECTION(g.name << " " << dtype) {
        ClassBalancedLoss::Options o;
        o.base = o.kBases.value(g.options.value("base", o.kBases.name(o.base)));
        o.beta = g.options.value("beta", o.beta);
        o.gamma = g.options.value("gamma", o.gamma);
        o.reduction =
            o.kReductions.value(g.options.value("reduction", o.kReductions.name(o.reduction)));
        at::Tensor logits = g.tensor("logits", dtype).set_requires_grad(true);
        ClassBalancedLoss loss(
            o, loss_context(g.raw.at("context").at("class_counts").get<std::vector<int64_t>>()));
        CHECK(at::allclose(loss.class_weights(), g.tensor("weights"), 1e-6, 1e-7));
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

TEST_CASE("class_balanced weights for known counts", "[class_balanced]") {
  SECTION("beta 0.5, counts 1, 2, 4") {
    // E_n = (1 - 0.5^n) / 0.5 = 1, 1.5, 1.875; 1/E = 1, 2/3, 8/15; times 3 / (33/15).
    const auto w = ClassBalancedLoss::effective_number_weights({1, 2, 4}, 0.5);
    REQUIRE(w.size() == 3);
    CHECK(w[0] == Approx(15.0 / 11.0));
    CHECK(w[1] == Approx(10.0 / 11.0));
    CHECK(w[2] == Approx(8.0 / 11.0));
  }
  SECTION("beta 0 is uniform") {
    for (double w : ClassBalancedLoss::effective_number_weights({5000, 50, 1}, 0.0))
      CHECK(w == Approx(1.0));
  }
  SECTION("beta 0.9, counts 1 and 2") {
    // 1/E = 1 and 0.1/0.19 = 10/19; normalised to sum 2: 38/29 and 20/29.
    const auto w = ClassBalancedLoss::effective_number_weights({1, 2}, 0.9);
    CHECK(w[0] == Approx(38.0 / 29.0));
    CHECK(w[1] == Approx(20.0 / 29.0));
  }
  SECTION("class_weights() reports them") {
    ClassBalancedLoss::Options o;
    o.beta = 0.5;
    ClassBalancedLoss loss(o, loss_context({1, 2, 4}));
    const at::Tensor w = loss.class_weights();
    REQUIRE(w.numel() == 3);
    CHECK(w[1].item<double>() == Approx(10.0 / 11.0));
    CHECK(w.sum().item<double>() == Approx(3.0));
  }
}

TEST_CASE("class_balanced reports its weights as a class vector", "[class_balanced]") {
  ClassBalancedLoss::Options o;
  o.beta = 0.5;
  const auto v = ClassBalancedLoss(o, loss_context({1, 2, 4})).class_vectors();
  CHECK(tailor::test::vector_names(v) == std::vector<std::string>{"weights"});
  const auto w = tailor::test::vector_values(v, "weights", 3);
  CHECK(w[0] == Approx(15.0 / 11.0));
  CHECK(w[1] == Approx(10.0 / 11.0));
  CHECK(w[2] == Approx(8.0 / 11.0));
}

TEST_CASE("class_balanced focal stays finite for saturated logits", "[class_balanced]") {
  ClassBalancedLoss::Options o;
  o.base = ClassBalancedLoss::Options::Base::kFocal;
  o.gamma = 0.5;
  ClassBalancedLoss loss(o, loss_context({10, 5, 2}));
  at::Tensor logits = at::tensor(std::vector<float>{200.f, -200.f, 0.f, -150.f, 150.f, -90.f})
                          .view({2, 3})
                          .set_requires_grad(true);
  tailor::LossInput in{logits, at::tensor(std::vector<int64_t>{0, 1})};
  at::Tensor value = loss.forward(in);
  value.backward();
  CHECK(std::isfinite(value.item<double>()));
  CHECK(at::isfinite(logits.grad()).all().item<bool>());
}

TEST_CASE("class_balanced rejects bad input with clear messages", "[class_balanced]") {
  SECTION("beta = 1") {
    CHECK_THROWS_WITH(options<ClassBalancedLoss::Options>("beta = 1.0"),
                      "exp.toml:1:8: [loss] beta must be [0, 1), got 1");
  }
  SECTION("negative beta") {
    CHECK_THROWS_WITH(options<ClassBalancedLoss::Options>("beta = -0.5"),
                      "exp.toml:1:8: [loss] beta must be [0, 1), got -0.5");
  }
  SECTION("negative gamma") {
    CHECK_THROWS_WITH(options<ClassBalancedLoss::Options>("gamma = -2.0"),
                      "exp.toml:1:9: [loss] gamma must be >= 0, got -2");
  }
  SECTION("unknown base loss") {
    CHECK_THROWS_WITH(
        options<ClassBalancedLoss::Options>("base = \"hinge\""),
        "exp.toml:1:8: [loss] base must be one of: softmax, sigmoid, focal, got \"hinge\"");
  }
  SECTION("a class without training samples") {
    CHECK_THROWS_WITH(ClassBalancedLoss(ClassBalancedLoss::Options{}, loss_context({10, 0, 3})),
                      Catch::Contains("class 1 has 0 training samples"));
  }
}

TEST_CASE("class_balanced README parameter table matches the options schema", "[class_balanced]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<ClassBalancedLoss::Options>());
}
