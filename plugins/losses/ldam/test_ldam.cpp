// Tests of the ldam loss: golden values, margins, DRW weights, option checks, README table.
#include "ldam.hpp"

#include "../../../tests/support/class_vectors.hpp"
#include "../../../tests/support/golden.hpp"
#include "../../../tests/support/mixed_targets.hpp"

#include <tailor/constant.hpp>
#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <utility>
#include <vector>

using tailor::plugins::LdamLoss;
using tailor::testing::loss_context;

namespace {

// Options as the host reads them from the loss table of an experiment's second stage.
LdamLoss::Options stage_options(const char* toml) {
  return tailor::testing::options<LdamLoss::Options>(toml, "stage[1].loss");
}

// forward() as it was before mixed batches (SDK 1.3), op for op, with the margins and DRW
// weights computed as the constructor computes them.
at::Tensor ldam_before_mixing(const at::Tensor& z, const at::Tensor& targets,
                              const std::vector<int64_t>& counts, const LdamLoss::Options& o) {
  const int64_t num_classes = static_cast<int64_t>(counts.size());
  const tailor::Constant margin_constant(LdamLoss::margins_for(counts, o.max_m), z.device());
  tailor::Constant weight_constant;
  if (o.reweight) {
    std::vector<double> weights(counts.size());
    double total = 0.0;
    for (size_t c = 0; c < weights.size(); ++c) {
      weights[c] =
          (1.0 - o.drw_beta) / (1.0 - std::pow(o.drw_beta, static_cast<double>(counts[c])));
      total += weights[c];
    }
    for (double& w : weights) w *= static_cast<double>(weights.size()) / total;
    weight_constant = tailor::Constant(weights, z.device());
  }
  const at::Tensor one_hot = at::one_hot(targets, num_classes).to(z.scalar_type());
  const at::Tensor m_y = margin_constant.like(z).index_select(0, targets).unsqueeze(1);
  const at::Tensor adjusted = o.s * (z - m_y * one_hot);
  at::Tensor per_sample = -at::log_softmax(adjusted, 1).gather(1, targets.unsqueeze(1)).squeeze(1);
  at::Tensor w_y;
  if (weight_constant.defined()) {
    w_y = weight_constant.like(z).index_select(0, targets);
    per_sample = w_y * per_sample;
  }
  if (o.reduction == LdamLoss::Options::Reduction::kSum) return per_sample.sum();
  if (o.reduction == LdamLoss::Options::Reduction::kBatchMean || !w_y.defined())
    return per_sample.mean();
  return per_sample.sum() / w_y.sum();
}

}  // namespace

TEST_CASE("ldam matches the reference of the official code", "[ldam][golden]") {
  for (const auto& g : tailor::test::load_golden("ldam"))
    for (const at::ScalarType dtype : {at::kFloat, at::kDouble}) {
      DYNAMIC_SECTION(g.name << " " << dtype) {
        LdamLoss::Options o;
        o.max_m = g.options.value("max_m", o.max_m);
        o.s = g.options.value("s", o.s);
        o.reweight = g.options.value("reweight", o.reweight);
        o.drw_beta = g.options.value("drw_beta", o.drw_beta);
        o.reduction =
            o.kReductions.value(g.options.value("reduction", o.kReductions.name(o.reduction)));
        at::Tensor logits = g.tensor("logits", dtype).set_requires_grad(true);
        LdamLoss loss(
            o, loss_context(g.raw.at("context").at("class_counts").get<std::vector<int64_t>>()));
        CHECK(at::allclose(loss.margins(), g.tensor("margins"), 1e-6, 1e-7));
        CHECK(loss.class_weights().defined() == g.has("weights"));
        if (g.has("weights"))
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
  LdamLoss loss(o, loss_context({1, 16}));  // margins 0.5 and 0.25
  const at::Tensor z = at::tensor(std::vector<float>{0.3f, -0.1f, 0.2f, 0.6f}).view({2, 2});
  const at::Tensor y = at::tensor(std::vector<int64_t>{0, 1});
  // Expected logits s * (z - m_y e_y): [0.6 - 1.0, -0.2] and [0.4, 1.2 - 0.5].
  const at::Tensor expected_logits =
      at::tensor(std::vector<float>{-0.4f, -0.2f, 0.4f, 0.7f}).view({2, 2});
  const double expected = at::cross_entropy_loss(expected_logits, y).item<double>();
  CHECK(loss.forward({z, y}).item<double>() == Approx(expected).epsilon(1e-6));
}

TEST_CASE("ldam evaluates the scaled logits unless told to keep the cosines", "[ldam]") {
  const at::Tensor z = at::tensor(std::vector<float>{0.3f, -0.1f, 0.2f, 0.6f}).view({2, 2});
  LdamLoss::Options o;
  o.s = 30.0;
  CHECK(at::allclose(LdamLoss(o, loss_context({1, 16})).adjust_logits(z), 30.0 * z));
  o = stage_options(R"(eval_logits = "cosine")");
  CHECK(at::equal(LdamLoss(o, loss_context({1, 16})).adjust_logits(z), z));
}

TEST_CASE("ldam with reweight uses class-balanced DRW weights", "[ldam]") {
  LdamLoss::Options o;
  CHECK_FALSE(LdamLoss(o, loss_context({10, 2})).class_weights().defined());
  o.reweight = true;
  o.drw_beta = 0.9;
  // counts 1 and 2: 1/E = 1 and 10/19, normalised to sum 2: 38/29 and 20/29.
  const at::Tensor w = LdamLoss(o, loss_context({1, 2})).class_weights();
  CHECK(w[0].item<double>() == Approx(38.0 / 29.0));
  CHECK(w[1].item<double>() == Approx(20.0 / 29.0));
}

TEST_CASE("ldam reports its margins, and its DRW weights when re-weighting", "[ldam]") {
  LdamLoss::Options o;
  const auto plain = LdamLoss(o, loss_context({256, 16, 1})).class_vectors();
  CHECK(tailor::test::vector_names(plain) == std::vector<std::string>{"margins"});
  const auto m = tailor::test::vector_values(plain, "margins", 3);
  CHECK(m[0] == Approx(0.125));
  CHECK(m[1] == Approx(0.25));
  CHECK(m[2] == Approx(0.5));
  o.reweight = true;
  o.drw_beta = 0.9;
  const auto drw = LdamLoss(o, loss_context({1, 2})).class_vectors();
  CHECK(tailor::test::vector_names(drw) == std::vector<std::string>{"margins", "drw_weights"});
  const auto w = tailor::test::vector_values(drw, "drw_weights", 2);
  CHECK(w[0] == Approx(38.0 / 29.0));
  CHECK(w[1] == Approx(20.0 / 29.0));
}

TEST_CASE("ldam asks the host for a cosine head", "[ldam]") {
  LdamLoss loss(LdamLoss::Options{}, loss_context({5, 3}));
  CHECK((loss.needs() & tailor::needs::kNormedHead) != 0);
}

TEST_CASE("ldam rejects bad input with clear messages", "[ldam]") {
  CHECK_THROWS_WITH(stage_options("drw_beta = 1.0"),
                    "exp.toml:1:12: [stage[1].loss] drw_beta must be [0, 1), got 1");
  CHECK_THROWS_WITH(stage_options("max_m = 0.0"),
                    "exp.toml:1:9: [stage[1].loss] max_m must be > 0, got 0");
  CHECK_THROWS_WITH(stage_options("s = -30.0"),
                    "exp.toml:1:5: [stage[1].loss] s must be > 0, got -30");
  CHECK_THROWS_WITH(LdamLoss(LdamLoss::Options{}, loss_context({100, 0, 4})),
                    Catch::Contains("class 1 has 0 training samples"));
}

// An unmixed batch runs the operations of forward() before mixed batches, bit for bit; a
// mixed one with mix weight 1 is the unmixed loss, with a constant weight lam the official
// lam L(y_a) + (1 - lam) L(y_b).
TEST_CASE("ldam on unmixed and mixed batches", "[ldam][mixed]") {
  using Reduction = LdamLoss::Options::Reduction;
  const std::vector<int64_t> counts = {500, 200, 80, 30, 12, 5};
  at::manual_seed(8);
  const at::Tensor logits = at::rand({6, 6}, at::kDouble) * 2.0 - 1.0;  // cosines
  const at::Tensor y = at::tensor(std::vector<int64_t>{0, 1, 2, 3, 4, 5});
  const at::Tensor y_b = at::tensor(std::vector<int64_t>{5, 5, 0, 2, 3, 2});
  for (const at::ScalarType dtype : {at::kFloat, at::kDouble})
    for (const bool reweight : {false, true})
      for (const Reduction reduction : {Reduction::kMean, Reduction::kBatchMean, Reduction::kSum}) {
        DYNAMIC_SECTION(dtype << " reweight " << reweight << " "
                              << LdamLoss::Options::kReductions.name(reduction)) {
          LdamLoss::Options o;
          o.reweight = reweight;
          o.reduction = reduction;
          LdamLoss loss(o, loss_context(counts));
          CHECK((loss.needs() & tailor::needs::kNormedHead) != 0);
          const at::Tensor z = logits.to(dtype);
          tailor::test::check_mixed_targets(loss, z, y, y_b,
                                            [&](const at::Tensor& x, const at::Tensor& t) {
                                              return ldam_before_mixing(x, t, counts, o);
                                            });
        }
      }
}

TEST_CASE("ldam README parameter table matches the options schema", "[ldam]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<LdamLoss::Options>());
}
