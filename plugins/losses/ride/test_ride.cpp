// Tests of the ride loss: golden values, DRW switch, margins, temperatures, refusals, README.
#include "ride.hpp"

#include "../../../tests/support/class_vectors.hpp"
#include "../../../tests/support/golden.hpp"

#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

using tailor::plugins::RideLoss;
using tailor::testing::loss_context;

namespace {

tailor::Clock epoch(int64_t e) {
  tailor::Clock clock;
  clock.epoch = e;
  clock.total_epochs = 200;
  return clock;
}

// Deterministic float64 expert logits [K, N, C] of the size of s-scaled cosines.
at::Tensor expert_logits(int64_t k, int64_t n, int64_t c, double phase) {
  return 10.0 * at::sin(1.7 * at::arange(k * n * c, at::kDouble) + phase).view({k, n, c});
}

}  // namespace

TEST_CASE("ride matches the reference of the official RIDELoss", "[ride][golden]") {
  for (const auto& g : tailor::test::load_golden("ride"))
    for (const at::ScalarType dtype : {at::kFloat, at::kDouble}) {
      DYNAMIC_SECTION(g.name << " " << dtype) {
        RideLoss::Options o;
        o.max_m = g.options.at("max_m").get<double>();
        o.s = g.options.at("s").get<double>();
        o.additional_diversity_factor = g.options.at("additional_diversity_factor").get<double>();
        o.reweight_factor = g.options.at("reweight_factor").get<double>();
        o.base_diversity_temperature = g.options.at("base_diversity_temperature").get<double>();
        o.drw_beta = g.options.at("drw_beta").get<double>();
        RideLoss loss(
            o, loss_context(g.raw.at("context").at("class_counts").get<std::vector<int64_t>>()));
        // The golden's "drw" says which side of the switch a case is on: the first epoch with
        // DRW (0-based drw_epoch, official 1-based drw_epoch + 1 > reweight_epoch) or the last
        // without.
        const bool drw = g.options.at("drw").get<bool>();
        loss.on_epoch_start(epoch(drw ? o.drw_epoch : o.drw_epoch - 1));
        REQUIRE(loss.drw_active() == drw);

        CHECK(at::allclose(loss.margins(), g.tensor("margins"), 1e-6, 1e-7));
        CHECK(at::allclose(loss.temperatures(), g.tensor("temperatures"), 1e-6, 1e-7));
        CHECK(loss.temperature_mean() == Approx(g.scalar("temperature_mean")).epsilon(1e-12));
        CHECK(loss.class_weights().defined() == g.has("weights"));
        if (g.has("weights"))
          CHECK(at::allclose(loss.class_weights(), g.tensor("weights"), 1e-6, 1e-7));

        at::Tensor z = g.tensor("expert_logits", dtype).set_requires_grad(true);
        const at::Tensor z_bar = z.mean(0);
        const auto tol = tailor::test::tolerance(dtype);
        CHECK(at::allclose(z_bar.detach(), g.tensor("ensemble_logits", dtype), tol.rtol, tol.atol));
        tailor::LossInput in;
        in.logits = z_bar;
        in.expert_logits = z;
        in.targets = g.tensor("targets");
        at::Tensor value = loss.forward(in);
        value.backward();
        CHECK(value.scalar_type() == dtype);
        CHECK(value.item<double>() == Approx(g.scalar("loss")).epsilon(tol.value));
        CHECK(at::allclose(z.grad(), g.tensor("grad", dtype), tol.rtol, tol.atol));

        const auto terms = loss.terms(z.detach(), z_bar.detach(), in.targets);
        CHECK(terms.loss.item<double>() == Approx(g.scalar("loss")).epsilon(tol.value));
        CHECK(at::allclose(terms.ce, g.tensor("ce_terms", dtype), tol.rtol, tol.atol));
        CHECK(at::allclose(terms.kl, g.tensor("kl_terms", dtype), tol.rtol, tol.atol));
      }
    }
}

TEST_CASE("ride switches DRW on at the official reweight_epoch", "[ride]") {
  RideLoss::Options o;  // drw_epoch 160 = the CIFAR config's reweight_epoch
  RideLoss loss(o, loss_context({500, 50, 5}));
  // Official: 1-based epoch > 160, i.e. from 1-based epoch 161 = 0-based epoch 160.
  loss.on_epoch_start(epoch(0));
  CHECK_FALSE(loss.drw_active());
  CHECK_FALSE(loss.class_weights().defined());
  CHECK(loss.temperature_mean() == 1.0);
  loss.on_epoch_start(epoch(159));
  CHECK_FALSE(loss.drw_active());
  loss.on_epoch_start(epoch(160));
  CHECK(loss.drw_active());
  CHECK(loss.class_weights().defined());
  loss.on_epoch_start(epoch(199));
  CHECK(loss.drw_active());

  o.reweight = false;
  RideLoss never(o, loss_context({500, 50, 5}));
  never.on_epoch_start(epoch(199));
  CHECK_FALSE(never.drw_active());
  CHECK_FALSE(never.class_weights().defined());

  o.reweight = true;
  o.drw_epoch = 0;
  RideLoss from_start(o, loss_context({500, 50, 5}));
  from_start.on_epoch_start(epoch(0));
  CHECK(from_start.drw_active());
}

TEST_CASE("ride margins, DRW weights and temperatures for known counts", "[ride]") {
  const auto m = RideLoss::margins_for({1, 16, 81, 256}, 0.5);
  REQUIRE(m.size() == 4);
  CHECK(m[0] == Approx(0.5));
  CHECK(m[1] == Approx(0.25));
  CHECK(m[2] == Approx(0.5 / 3.0));
  CHECK(m[3] == Approx(0.125));
  // counts 1 and 2, beta 0.9: 1/E = 1 and 10/19, normalised to sum 2: 38/29 and 20/29.
  const auto w = RideLoss::drw_weights_for({1, 2}, 0.9);
  CHECK(w[0] == Approx(38.0 / 29.0));
  CHECK(w[1] == Approx(20.0 / 29.0));
  // pi = 3/4, 1/4, gamma 0.5: t = 2 pi 0.5 + 0.5 = 1.25, 0.75; over the max: 1, 0.6.
  const auto t = RideLoss::temperatures_for({3, 1}, 0.5);
  CHECK(t[0] == Approx(1.0));
  CHECK(t[1] == Approx(0.6));
  // gamma 0: every temperature 1.
  for (double v : RideLoss::temperatures_for({500, 20, 3}, 0.0)) CHECK(v == 1.0);
}

TEST_CASE("ride reports margins, DRW weights while on, and temperatures", "[ride]") {
  RideLoss::Options o;
  o.base_diversity_temperature = 2.0;
  o.reweight_factor = 0.5;
  o.drw_beta = 0.9;
  RideLoss loss(o, loss_context({3, 1}));
  loss.on_epoch_start(epoch(0));
  const auto before = loss.class_vectors();
  CHECK(tailor::test::vector_names(before) == std::vector<std::string>{"margins", "temperatures"});
  for (double v : tailor::test::vector_values(before, "temperatures", 2)) CHECK(v == 2.0);
  loss.on_epoch_start(epoch(o.drw_epoch));
  const auto after = loss.class_vectors();
  CHECK(tailor::test::vector_names(after) ==
        std::vector<std::string>{"margins", "drw_weights", "temperatures"});
  const auto t = tailor::test::vector_values(after, "temperatures", 2);
  CHECK(t[0] == Approx(2.0));
  CHECK(t[1] == Approx(1.2));
  CHECK(loss.temperature_mean() == Approx(1.6));
  const auto m = tailor::test::vector_values(after, "margins", 2);
  CHECK(m[0] == Approx(0.5 * std::pow(1.0 / 3.0, 0.25)));
  CHECK(m[1] == Approx(0.5));
}

TEST_CASE("ride with identical experts is K times LDAM on the s-scaled logits", "[ride]") {
  // The KL of identical experts is 0; what is left is each expert's LDAM CE on z - s m_y e_y.
  RideLoss::Options o;
  o.s = 30.0;
  RideLoss loss(o, loss_context({1, 16}));  // margins 0.5 and 0.25
  const at::Tensor one = at::tensor(std::vector<double>{9.0, -3.0, 6.0, 18.0}).view({1, 2, 2});
  const at::Tensor z = one.expand({3, 2, 2}).contiguous();
  const at::Tensor y = at::tensor(std::vector<int64_t>{0, 1});
  // Expected logits: [9 - 15, -3] and [6, 18 - 7.5].
  const at::Tensor ldam_logits =
      at::tensor(std::vector<double>{-6.0, -3.0, 6.0, 10.5}).view({2, 2});
  const double expected = 3.0 * at::cross_entropy_loss(ldam_logits, y).item<double>();
  const auto terms = loss.terms(z, z.mean(0), y);
  CHECK(terms.loss.item<double>() == Approx(expected).epsilon(1e-12));
  CHECK(terms.kl.abs().max().item<double>() < 1e-12);
}

TEST_CASE("ride scales the per-expert CE by base_loss_factor", "[ride]") {
  const at::Tensor z = expert_logits(3, 5, 4, 7);
  const at::Tensor y = at::tensor(std::vector<int64_t>{0, 1, 2, 3, 0});
  RideLoss::Options o;
  const auto one = RideLoss(o, loss_context({40, 20, 8, 2})).terms(z, z.mean(0), y);
  o.base_loss_factor = 2.5;
  const auto more = RideLoss(o, loss_context({40, 20, 8, 2})).terms(z, z.mean(0), y);
  CHECK((more.loss - one.loss).item<double>() ==
        Approx(1.5 * one.ce.sum().item<double>()).epsilon(1e-12));
}

TEST_CASE("ride gradients agree with finite differences", "[ride]") {
  // The host-facing forward() differentiates w.r.t. the expert logits; check that path in
  // float64 through terms() with the ensemble as their mean, before and after DRW.
  const at::Tensor y = at::tensor(std::vector<int64_t>{0, 1, 2, 3, 3, 1});
  for (const double lambda : {-0.45, 0.0}) {
    RideLoss::Options o;
    o.additional_diversity_factor = lambda;
    RideLoss loss(o, loss_context({40, 20, 8, 2}));
    for (const int64_t e : {int64_t{0}, o.drw_epoch}) {
      loss.on_epoch_start(epoch(e));
      const at::Tensor z0 = expert_logits(3, 6, 4, 11);
      at::Tensor z = z0.clone().set_requires_grad(true);
      loss.terms(z, z.mean(0), y).loss.backward();
      const double h = 1e-6;
      double worst = 0.0;
      for (int64_t i = 0; i < z0.numel(); ++i) {
        at::Tensor plus = z0.clone(), minus = z0.clone();
        plus.view(-1)[i] += h;
        minus.view(-1)[i] -= h;
        // The KL's ensemble side carries no gradient, as in the official code: hold it fixed.
        const at::Tensor bar = lambda == 0.0 ? at::Tensor() : z0.mean(0);
        const double fp =
            loss.terms(plus, lambda == 0.0 ? plus.mean(0) : bar, y).loss.item<double>();
        const double fm =
            loss.terms(minus, lambda == 0.0 ? minus.mean(0) : bar, y).loss.item<double>();
        worst =
            std::max(worst, std::abs((fp - fm) / (2 * h) - z.grad().view(-1)[i].item<double>()));
      }
      INFO("lambda " << lambda << " epoch " << e);
      CHECK(worst < 1e-5);
    }
  }
}

TEST_CASE("ride asks for expert logits from cosine classifiers", "[ride]") {
  RideLoss loss(RideLoss::Options{}, loss_context({5, 3}));
  CHECK(loss.needs() == (tailor::needs::kExpertLogits | tailor::needs::kNormedHead));
}

TEST_CASE("ride rejects bad input with clear messages", "[ride]") {
  RideLoss loss(RideLoss::Options{}, loss_context({5, 3, 2}));
  const at::Tensor z = at::zeros({4, 3});
  const at::Tensor y = at::zeros({4}, at::kLong);
  CHECK_THROWS_WITH(loss.forward({z, y}),
                    Catch::Contains("ride: the host passed no expert logits") &&
                        Catch::Contains("num_experts") && Catch::Contains("`experts` head"));
  tailor::LossInput in{z, y};
  in.expert_logits = at::zeros({2, 4, 5});
  CHECK_THROWS_WITH(loss.forward(in), "ride: expert logits must be [K, N, 3], got [2, 4, 5]");
  in.expert_logits = at::zeros({2, 3, 3});
  CHECK_THROWS_WITH(loss.forward(in), "ride: ensemble logits must be [3, 3], got [4, 3]");
  CHECK_THROWS_WITH(RideLoss(RideLoss::Options{}, loss_context({100, 0, 4})),
                    Catch::Contains("ride: class 1 has 0 training samples"));
  RideLoss::Options o;
  o.reweight_factor = 5.0;
  CHECK_THROWS_WITH(RideLoss(o, loss_context({1000, 1})),
                    Catch::Contains("ride: reweight_factor 5 makes the diversity temperature of "
                                    "class 1 non-positive"));
  o.reweight = false;  // the temperatures are never used
  CHECK_NOTHROW(RideLoss(o, loss_context({1000, 1})));
  using tailor::testing::options;
  CHECK_THROWS_WITH(options<RideLoss::Options>("drw_epoch = -1"),
                    "exp.toml:1:13: [loss] drw_epoch must be >= 0, got -1");
  CHECK_THROWS_WITH(options<RideLoss::Options>("drw_beta = 1.0"),
                    "exp.toml:1:12: [loss] drw_beta must be [0, 1), got 1");
  CHECK_THROWS_WITH(options<RideLoss::Options>("base_diversity_temperature = 0.0"),
                    "exp.toml:1:30: [loss] base_diversity_temperature must be > 0, got 0");
}

TEST_CASE("ride README parameter table matches the options schema", "[ride]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<RideLoss::Options>());
}
