// Tests of the vs_loss loss: golden values (float32 and float64), special cases, DRW weights,
// option checks, README table.
#include "vs_loss.hpp"

#include "../../../tests/support/golden.hpp"

#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

#include <cmath>

using tailor::plugins::VsLoss;
using tailor::testing::loss_context;

namespace {

VsLoss::Options golden_options(const tailor::test::GoldenCase& g) {
  VsLoss::Options o;
  o.gamma = g.options.value("gamma", o.gamma);
  o.tau = g.options.value("tau", o.tau);
  o.reweight = g.options.value("reweight", o.reweight);
  o.drw_beta = g.options.value("drw_beta", o.drw_beta);
  o.reduction = VsLoss::Options::kReductions.value(g.options.value("reduction", std::string("mean")));
  return o;
}

std::vector<int64_t> golden_counts(const tailor::test::GoldenCase& g) {
  return g.raw.at("context").at("class_counts").get<std::vector<int64_t>>();
}

// A float tensor of the case in float64, as the golden file stores it.
at::Tensor golden_double(const tailor::test::GoldenCase& g, const std::string& key) {
  const auto& t = g.raw.at("tensors").at(key);
  return at::tensor(t.at("data").get<std::vector<double>>(), at::kDouble)
      .view(t.at("shape").get<std::vector<int64_t>>())
      .clone();
}

}  // namespace

TEST_CASE("vs_loss matches the reference in float32", "[vs_loss][golden]") {
  for (const auto& g : tailor::test::load_golden("vs_loss")) {
    DYNAMIC_SECTION(g.name) {
      VsLoss loss(golden_options(g), loss_context(golden_counts(g)));
      CHECK(at::allclose(loss.inverse_scales(), golden_double(g, "inverse_scales"), 1e-12, 0.0));
      CHECK(at::allclose(loss.offsets(), golden_double(g, "offsets"), 1e-12, 0.0));
      CHECK(loss.class_weights().defined() == g.has("weights"));
      if (g.has("weights"))
        CHECK(at::allclose(loss.class_weights(), golden_double(g, "weights"), 1e-12, 0.0));
      at::Tensor logits = g.tensor("logits").set_requires_grad(true);
      at::Tensor value = loss.forward({logits, g.tensor("targets")});
      CHECK(value.scalar_type() == at::kFloat);
      value.backward();
      // float32 arithmetic against a float64 reference.
      CHECK(value.item<double>() == Approx(g.scalar("loss")).epsilon(1e-5));
      CHECK(at::allclose(logits.grad(), g.tensor("grad"), /*rtol=*/1e-4, /*atol=*/1e-6));
    }
  }
}

TEST_CASE("vs_loss matches the reference in float64", "[vs_loss][golden]") {
  // The reference multiplies by Delta, the plugin divides by 1 / Delta as the official code
  // does: the same function, equal to rounding.
  for (const auto& g : tailor::test::load_golden("vs_loss")) {
    DYNAMIC_SECTION(g.name) {
      VsLoss loss(golden_options(g), loss_context(golden_counts(g)));
      at::Tensor logits = golden_double(g, "logits").set_requires_grad(true);
      at::Tensor value = loss.forward({logits, g.tensor("targets")});
      CHECK(value.scalar_type() == at::kDouble);
      value.backward();
      CHECK(value.item<double>() == Approx(g.scalar("loss")).epsilon(1e-12));
      CHECK(at::allclose(logits.grad(), golden_double(g, "grad"), 1e-10, 1e-13));
    }
  }
}

TEST_CASE("vs_loss scales and offsets for known counts", "[vs_loss]") {
  // n_max / n = 1, 4, 25: with gamma = 0.5 the divisors are 1, 2, 5.
  const auto inverse = VsLoss::inverse_scales_for({100, 25, 4}, 0.5);
  REQUIRE(inverse.size() == 3);
  CHECK(inverse[0] == Approx(1.0));
  CHECK(inverse[1] == Approx(2.0));
  CHECK(inverse[2] == Approx(5.0));
  // The largest class need not come first.
  const auto reordered = VsLoss::inverse_scales_for({4, 100}, 0.5);
  CHECK(reordered[0] == Approx(5.0));
  CHECK(reordered[1] == Approx(1.0));
  const auto offsets = VsLoss::offsets_for({75, 25}, 2.0);
  CHECK(offsets[0] == Approx(2.0 * std::log(0.75)));
  CHECK(offsets[1] == Approx(2.0 * std::log(0.25)));
  for (double v : VsLoss::inverse_scales_for({100, 25, 4}, 0.0)) CHECK(v == 1.0);
  for (double v : VsLoss::offsets_for({100, 25, 4}, 0.0)) CHECK(v == 0.0);
}

TEST_CASE("vs_loss special cases: CE, logit adjustment, class-dependent temperature", "[vs_loss]") {
  const std::vector<int64_t> counts = {90, 9, 1};
  const at::Tensor z = at::randn({6, 3}, at::kDouble);
  const at::Tensor y = at::tensor(std::vector<int64_t>{0, 1, 2, 2, 1, 0});
  const at::Tensor n = at::tensor(std::vector<double>{90.0, 9.0, 1.0});
  VsLoss::Options o;

  SECTION("gamma = 0 and tau = 0 is plain cross-entropy") {
    o.gamma = 0.0;
    o.tau = 0.0;
    CHECK(VsLoss(o, loss_context(counts)).forward({z, y}).item<double>() ==
          Approx(at::cross_entropy_loss(z, y).item<double>()).epsilon(1e-14));
  }
  SECTION("gamma = 0 is the logit-adjusted loss CE(z + tau log pi)") {
    o.gamma = 0.0;
    o.tau = 1.5;
    const at::Tensor expected = at::cross_entropy_loss(z + 1.5 * at::log(n / 100.0), y);
    CHECK(VsLoss(o, loss_context(counts)).forward({z, y}).item<double>() ==
          Approx(expected.item<double>()).epsilon(1e-14));
  }
  SECTION("tau = 0 is the class-dependent temperature loss CE(z (n / n_max)^gamma)") {
    o.gamma = 0.5;
    o.tau = 0.0;
    const at::Tensor expected = at::cross_entropy_loss(z * at::pow(n / 90.0, 0.5), y);
    CHECK(VsLoss(o, loss_context(counts)).forward({z, y}).item<double>() ==
          Approx(expected.item<double>()).epsilon(1e-14));
  }
  SECTION("a tail-class logit is damped, so the tail needs a larger logit to win") {
    // Equal raw logits for the head and the tail class: the tail's scaled logit is smaller
    // and its offset more negative, so the loss of a tail target exceeds that of a head one.
    VsLoss loss(o, loss_context(counts));
    const at::Tensor equal = at::full({1, 3}, 2.0, at::kDouble);
    const double head = loss.forward({equal, at::tensor(std::vector<int64_t>{0})}).item<double>();
    const double tail = loss.forward({equal, at::tensor(std::vector<int64_t>{2})}).item<double>();
    CHECK(tail > head);
  }
}

TEST_CASE("vs_loss gradient equals finite differences", "[vs_loss]") {
  VsLoss::Options o;
  o.reweight = true;
  VsLoss loss(o, loss_context({400, 60, 7, 2}));
  const at::Tensor z = at::randn({5, 4}, at::kDouble) * 3.0;
  const auto check = tailor::testing::check_loss_gradient(
      loss, {z, at::tensor(std::vector<int64_t>{3, 0, 1, 2, 3})});
  INFO(check.message);
  CHECK(check.ok);
}

TEST_CASE("vs_loss with reweight uses class-balanced DRW weights", "[vs_loss]") {
  VsLoss::Options o;
  CHECK_FALSE(VsLoss(o, loss_context({10, 2})).class_weights().defined());
  o.reweight = true;
  o.drw_beta = 0.9;
  // counts 1 and 2: 1/E = 1 and 10/19, normalised to sum 2: 38/29 and 20/29.
  const at::Tensor w = VsLoss(o, loss_context({1, 2})).class_weights();
  CHECK(w[0].item<double>() == Approx(38.0 / 29.0));
  CHECK(w[1].item<double>() == Approx(20.0 / 29.0));
  CHECK(VsLoss(o, loss_context({1, 2})).needs() == 0u);
}

TEST_CASE("vs_loss rejects bad input with clear messages", "[vs_loss]") {
  using tailor::testing::options;
  CHECK_THROWS_WITH(options<VsLoss::Options>("gamma = -0.1"),
                    "exp.toml:1:9: [loss] gamma must be >= 0, got -0.1");
  CHECK_THROWS_WITH(options<VsLoss::Options>("tau = -1"),
                    "exp.toml:1:7: [loss] tau must be >= 0, got -1");
  CHECK_THROWS_WITH(options<VsLoss::Options>("drw_beta = 1.0"),
                    "exp.toml:1:12: [loss] drw_beta must be [0, 1), got 1");
  CHECK_THROWS_WITH(options<VsLoss::Options>("reduction = \"median\""),
                    Catch::Contains("reduction must be one of: mean, batch_mean, sum"));
  CHECK_THROWS_WITH(VsLoss(VsLoss::Options{}, loss_context({100, 0, 4})),
                    Catch::Contains("vs_loss: class 1 has 0 training samples"));
  VsLoss loss(VsLoss::Options{}, loss_context({5, 3}));
  CHECK_THROWS_WITH(loss.forward({at::zeros({2, 3}), at::zeros({2}, at::kLong)}),
                    "vs_loss: logits must be [N, 2], got [2, 3]");
}

TEST_CASE("vs_loss README parameter table matches the options schema", "[vs_loss]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README, tailor::schema_of<VsLoss::Options>());
}
