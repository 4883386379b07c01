// Tests of the label_aware_smoothing loss: golden values, profiles, option checks, README.
#include "label_aware_smoothing.hpp"

#include "../../../tests/support/golden.hpp"

#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

#include <cmath>

using tailor::plugins::LabelAwareSmoothing;
using tailor::testing::loss_context;

namespace {

// Options as the host reads them from the loss table of an experiment's second stage.
LabelAwareSmoothing::Options stage_options(const char* toml) {
  return tailor::testing::options<LabelAwareSmoothing::Options>(toml, "stage[1].loss",
                                                                "stage2.toml");
}

}  // namespace

TEST_CASE("label_aware_smoothing matches the reference of the official code",
          "[label_aware_smoothing][golden]") {
  for (const auto& g : tailor::test::load_golden("label_aware_smoothing"))
    for (const at::ScalarType dtype : {at::kFloat, at::kDouble}) {
      DYNAMIC_SECTION(g.name << " " << dtype) {
        LabelAwareSmoothing::Options o;
        o.eps_head = g.options.value("eps_head", o.eps_head);
        o.eps_tail = g.options.value("eps_tail", o.eps_tail);
        o.shape = o.kShapes.value(g.options.value("shape", o.kShapes.name(o.shape)));
        o.power = g.options.value("power", o.power);
        o.reduction =
            o.kReductions.value(g.options.value("reduction", o.kReductions.name(o.reduction)));
        at::Tensor logits = g.tensor("logits", dtype).set_requires_grad(true);
        LabelAwareSmoothing loss(
            o, loss_context(g.raw.at("context").at("class_counts").get<std::vector<int64_t>>()));
        CHECK(at::allclose(loss.smoothing(), g.tensor("smoothing"), 1e-6, 1e-7));
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

TEST_CASE("label_aware_smoothing profiles for known counts", "[label_aware_smoothing]") {
  // Counts 1, 11, 21 sit at x = 0, 1/2, 1; eps from tail 0 to head 0.4.
  const std::vector<int64_t> counts = {1, 11, 21};
  LabelAwareSmoothing::Options o;
  o.eps_head = 0.4;
  o.eps_tail = 0.0;
  const double half_sine = 0.4 * std::sqrt(0.5);  // 0.4 sin(pi / 4)
  struct Expected {
    const char* shape;
    double middle;
  };
  for (const auto& e : {Expected{"concave", half_sine}, Expected{"linear", 0.2},
                        Expected{"convex", 0.4 - half_sine}, Expected{"exp", 0.1}}) {
    o.shape = o.kShapes.value(e.shape);
    o.power = 2.0;
    const auto eps = LabelAwareSmoothing::smoothing_for(counts, o);
    INFO(e.shape);
    CHECK(eps[0] == Approx(0.0).margin(1e-12));
    CHECK(eps[1] == Approx(e.middle));
    CHECK(eps[2] == Approx(0.4));
  }
}

TEST_CASE("label_aware_smoothing corner cases", "[label_aware_smoothing]") {
  LabelAwareSmoothing::Options o;
  SECTION("equal counts: every class is a head class") {
    for (double e : LabelAwareSmoothing::smoothing_for({8, 8, 8}, o)) CHECK(e == Approx(0.4));
  }
  SECTION("a class without training samples is simply the rarest") {
    const auto eps = LabelAwareSmoothing::smoothing_for({0, 100}, o);
    CHECK(eps[0] == Approx(0.1));
    CHECK(eps[1] == Approx(0.4));
  }
  SECTION("zero smoothing is cross-entropy") {
    o.eps_head = 0.0;
    o.eps_tail = 0.0;
    LabelAwareSmoothing loss(o, loss_context({100, 10, 1}));
    const at::Tensor z = at::randn({6, 3});
    const at::Tensor y = at::tensor(std::vector<int64_t>{0, 1, 2, 0, 1, 2});
    CHECK(loss.forward({z, y}).item<double>() ==
          Approx(at::cross_entropy_loss(z, y).item<double>()).epsilon(1e-6));
  }
  SECTION("one smoothing for all classes is ordinary label smoothing") {
    o.eps_head = 0.2;
    o.eps_tail = 0.2;
    LabelAwareSmoothing loss(o, loss_context({100, 10, 1}));
    const at::Tensor z = at::randn({6, 3});
    const at::Tensor y = at::tensor(std::vector<int64_t>{0, 1, 2, 0, 1, 2});
    const double expected =
        at::cross_entropy_loss(z, y, {}, at::Reduction::Mean, -100, 0.2).item<double>();
    CHECK(loss.forward({z, y}).item<double>() == Approx(expected).epsilon(1e-6));
  }
}

TEST_CASE("label_aware_smoothing rejects bad options with clear messages",
          "[label_aware_smoothing]") {
  CHECK_THROWS_WITH(stage_options("eps_head = 1.2"),
                    "stage2.toml:1:12: [stage[1].loss] eps_head must be [0, 1], got 1.2");
  CHECK_THROWS_WITH(stage_options("shape = \"sine\""),
                    "stage2.toml:1:9: [stage[1].loss] shape must be one of: concave, linear, "
                    "convex, exp, got \"sine\"");
}

TEST_CASE("label_aware_smoothing README parameter table matches the options schema",
          "[label_aware_smoothing]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<LabelAwareSmoothing::Options>());
}
