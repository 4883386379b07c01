// Tests of the ldam loss: golden values, margins, DRW weights, option checks, README table.
#include "ldam.hpp"

#include "../../../tests/support/class_vectors.hpp"
#include "../../../tests/support/golden.hpp"
#include "../../../tests/support/readme_table.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using tailor::plugins::LdamLoss;

namespace {

tailor::LossContext context(std::vector<int64_t> counts) {
  tailor::LossContext c;
  c.num_classes = static_cast<int64_t>(counts.size());
  c.class_counts = std::move(counts);
  return c;
}

// Reads options the way the plugin's create() does, from one key set in an experiment file.
LdamLoss::Options read_one(TailorValue value) {
  value.struct_size = sizeof(TailorValue);
  value.origin = "exp.toml:3:5";
  const TailorConfig config{sizeof(TailorConfig), "stage[1].loss", 1, &value};
  return tailor::read_options<LdamLoss::Options>(config);
}

TailorValue float_value(const char* key, double v) {
  TailorValue value{};
  value.type = TAILOR_VALUE_FLOAT;
  value.key = key;
  value.float_value = v;
  return value;
}

}  // namespace

TEST_CASE("ldam matches the reference of the official code", "[ldam][golden]") {
  for (const auto& g : tailor::test::load_golden("ldam")) {
    DYNAMIC_SECTION(g.name) {
      LdamLoss::Options o;
      o.max_m = g.options.value("max_m", o.max_m);
      o.s = g.options.value("s", o.s);
      o.reweight = g.options.value("reweight", o.reweight);
      o.drw_beta = g.options.value("drw_beta", o.drw_beta);
      o.reduction = g.options.value("reduction", o.reduction);
      at::Tensor logits = g.tensor("logits").set_requires_grad(true);
      LdamLoss loss(o, context(g.raw.at("context").at("class_counts").get<std::vector<int64_t>>()));
      CHECK(at::allclose(loss.margins(), g.tensor("margins"), 1e-6, 1e-7));
      CHECK(loss.class_weights().defined() == g.has("weights"));
      if (g.has("weights"))
        CHECK(at::allclose(loss.class_weights(), g.tensor("weights"), 1e-6, 1e-7));
      tailor::LossInput in;
      in.logits = logits;
      in.targets = g.tensor("targets");
      at::Tensor value = loss.forward(in);
      value.backward();
      // float32 arithmetic against a float64 reference.
      CHECK(value.item<double>() == Approx(g.scalar("loss")).epsilon(1e-5));
      CHECK(at::allclose(logits.grad(), g.tensor("grad"), /*rtol=*/1e-4, /*atol=*/1e-6));
    }
  }
}

TEST_CASE("ldam margins for known counts", "[ldam]") {
  // n^(1/4) = 1, 2, 3, 4: margins proportional to 1, 1/2, 1/3, 1/4, the largest 0.5.
  const auto m = LdamLoss::margins_for({1, 16, 81, 256}, 0.5);
  REQUIRE(m.size() == 4);
  CHECK(m[0] == Approx(0.5));
  CHECK(m[1] == Approx(0.25));
  CHECK(m[2] == Approx(0.5 / 3.0));
  CHECK(m[3] == Approx(0.125));
  const auto m2 = LdamLoss::margins_for({256, 16}, 1.0);
  CHECK(m2[0] == Approx(0.5));
  CHECK(m2[1] == Approx(1.0));
}

TEST_CASE("ldam subtracts the margin from the target logit only, then scales", "[ldam]") {
  LdamLoss::Options o;
  o.s = 2.0;
  LdamLoss loss(o, context({1, 16}));  // margins 0.5 and 0.25
  const at::Tensor z = at::tensor(std::vector<float>{0.3f, -0.1f, 0.2f, 0.6f}).view({2, 2});
  const at::Tensor y = at::tensor(std::vector<int64_t>{0, 1});
  // Expected logits s * (z - m_y e_y): [0.6 - 1.0, -0.2] and [0.4, 1.2 - 0.5].
  const at::Tensor expected_logits =
      at::tensor(std::vector<float>{-0.4f, -0.2f, 0.4f, 0.7f}).view({2, 2});
  const double expected = at::cross_entropy_loss(expected_logits, y).item<double>();
  CHECK(loss.forward({z, y}).item<double>() == Approx(expected).epsilon(1e-6));
}

TEST_CASE("ldam with reweight uses class-balanced DRW weights", "[ldam]") {
  LdamLoss::Options o;
  CHECK_FALSE(LdamLoss(o, context({10, 2})).class_weights().defined());
  o.reweight = true;
  o.drw_beta = 0.9;
  // counts 1 and 2: 1/E = 1 and 10/19, normalised to sum 2: 38/29 and 20/29.
  const at::Tensor w = LdamLoss(o, context({1, 2})).class_weights();
  CHECK(w[0].item<double>() == Approx(38.0 / 29.0));
  CHECK(w[1].item<double>() == Approx(20.0 / 29.0));
}

TEST_CASE("ldam reports its margins, and its DRW weights when re-weighting", "[ldam]") {
  LdamLoss::Options o;
  const auto plain = LdamLoss(o, context({256, 16, 1})).class_vectors();
  CHECK(tailor::test::vector_names(plain) == std::vector<std::string>{"margins"});
  const auto m = tailor::test::vector_values(plain, "margins", 3);
  CHECK(m[0] == Approx(0.125));
  CHECK(m[1] == Approx(0.25));
  CHECK(m[2] == Approx(0.5));
  o.reweight = true;
  o.drw_beta = 0.9;
  const auto drw = LdamLoss(o, context({1, 2})).class_vectors();
  CHECK(tailor::test::vector_names(drw) == std::vector<std::string>{"margins", "drw_weights"});
  const auto w = tailor::test::vector_values(drw, "drw_weights", 2);
  CHECK(w[0] == Approx(38.0 / 29.0));
  CHECK(w[1] == Approx(20.0 / 29.0));
}

TEST_CASE("ldam asks the host for a cosine head", "[ldam]") {
  LdamLoss loss(LdamLoss::Options{}, context({5, 3}));
  CHECK((loss.needs() & tailor::needs::kNormedHead) != 0);
}

TEST_CASE("ldam rejects bad input with clear messages", "[ldam]") {
  CHECK_THROWS_WITH(read_one(float_value("drw_beta", 1.0)),
                    "exp.toml:3:5: [stage[1].loss] drw_beta must be [0, 1), got 1");
  CHECK_THROWS_WITH(read_one(float_value("max_m", 0.0)),
                    "exp.toml:3:5: [stage[1].loss] max_m must be > 0, got 0");
  CHECK_THROWS_WITH(read_one(float_value("s", -30.0)),
                    "exp.toml:3:5: [stage[1].loss] s must be > 0, got -30");
  CHECK_THROWS_WITH(LdamLoss(LdamLoss::Options{}, context({100, 0, 4})),
                    Catch::Contains("class 1 has 0 training samples"));
}

TEST_CASE("ldam README parameter table matches the options schema", "[ldam]") {
  tailor::test::check_readme_matches_schema(PLUGIN_README, tailor::schema_of<LdamLoss::Options>());
}
