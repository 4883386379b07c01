// Tests of the cdb loss: golden values, weights and tau, state round trip, option checks.
#include "cdb.hpp"

#include "../../../tests/support/class_vectors.hpp"
#include "../../../tests/support/golden.hpp"

#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

using tailor::plugins::CdbLoss;
using tailor::testing::loss_context;
using tailor::testing::options;

namespace {

tailor::ClassStats val_stats(std::vector<double> accuracy) {
  tailor::ClassStats s;
  s.split = tailor::Split::kVal;
  s.support.assign(accuracy.size(), 25);
  s.accuracy = std::move(accuracy);
  return s;
}

std::vector<double> to_vector(const at::Tensor& t) {
  const at::Tensor d = t.to(at::kDouble).contiguous();
  return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
}

}  // namespace

TEST_CASE("cdb matches the reference of the official code", "[cdb][golden]") {
  for (const auto& g : tailor::test::load_golden("cdb"))
    for (const at::ScalarType dtype : {at::kFloat, at::kDouble}) {
      DYNAMIC_SECTION(g.name << " " << dtype) {
        CdbLoss::Options o;
        o.tau_mode = o.kTauModes.value(g.options.value("tau_mode", o.kTauModes.name(o.tau_mode)));
        o.tau = g.options.value("tau", o.tau);
        o.min_difficulty = g.options.value("min_difficulty", o.min_difficulty);
        o.base = o.kBases.value(g.options.value("base", o.kBases.name(o.base)));
        o.gamma = g.options.value("gamma", o.gamma);
        o.detach_modulator = g.options.value("detach_modulator", o.detach_modulator);
        o.reduction =
            o.kReductions.value(g.options.value("reduction", o.kReductions.name(o.reduction)));
        at::Tensor logits = g.tensor("logits", dtype).set_requires_grad(true);
        CdbLoss loss(o, loss_context(std::vector<int64_t>(logits.size(1), 10)));
        const auto& ctx = g.raw.at("context");
        if (ctx.contains("accuracy"))
          loss.on_validation(val_stats(ctx.at("accuracy").get<std::vector<double>>()));
        CHECK(loss.measured() == ctx.contains("accuracy"));
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

TEST_CASE("cdb weights and tau for known accuracies", "[cdb]") {
  // A = (0.5, 0.75, 1.0): d = (0.5, 0.25, 0); r = 1 / (0.5 + 0.01) = 1.96078...
  const std::vector<double> acc = {0.5, 0.75, 1.0};
  CdbLoss::Options o;

  SECTION("before any measurement: uniform") {
    CdbLoss loss(o, loss_context({10, 10, 10}));
    CHECK_FALSE(loss.measured());
    CHECK(to_vector(loss.class_weights()) == std::vector<double>{1.0, 1.0, 1.0});
    CHECK(loss.tau() == Approx(0.5378828427399902));  // 2 sigmoid(-1): r = 0 at A = 0
  }
  SECTION("fixed tau 1: the class at 100% gets weight 0") {
    // d^1 = (0.5, 0.25, 0), sum 0.75, times 3: (2, 1, 0).
    o.tau_mode = CdbLoss::Options::TauMode::kFixed;
    o.tau = 1.0;
    CdbLoss loss(o, loss_context({10, 10, 10}));
    loss.on_validation(val_stats(acc));
    CHECK(loss.tau() == 1.0);
    const auto w = to_vector(loss.class_weights());
    CHECK(w[0] == Approx(2.0));
    CHECK(w[1] == Approx(1.0));
    CHECK(w[2] == 0.0);
  }
  SECTION("min_difficulty floors the solved class") {
    // d = (0.5, 0.25, 0.25), sum 1: (1.5, 0.75, 0.75).
    o.tau_mode = CdbLoss::Options::TauMode::kFixed;
    o.tau = 1.0;
    o.min_difficulty = 0.25;
    CdbLoss loss(o, loss_context({10, 10, 10}));
    loss.on_validation(val_stats(acc));
    const auto w = to_vector(loss.class_weights());
    CHECK(w[0] == Approx(1.5));
    CHECK(w[1] == Approx(0.75));
    CHECK(w[2] == Approx(0.75));
  }
  SECTION("dynamic tau = 2 sigmoid(r - 1)") {
    CdbLoss loss(o, loss_context({10, 10, 10}));
    loss.on_validation(val_stats(acc));
    CHECK(loss.measured());
    CHECK(loss.tau() == Approx(1.4465576206307948));
    const auto w = to_vector(loss.class_weights());
    CHECK(w[0] == Approx(2.194753947404403).epsilon(1e-6));
    CHECK(w[1] == Approx(0.8052460525955968).epsilon(1e-6));
    CHECK(w[2] == 0.0);
  }
  SECTION("dynamic_v1 tau = sigmoid(r)") {
    o.tau_mode = CdbLoss::Options::TauMode::kDynamicV1;
    CdbLoss loss(o, loss_context({10, 10, 10}));
    loss.on_validation(val_stats(acc));
    CHECK(loss.tau() == Approx(0.8766178081047593));
    const auto w = to_vector(loss.class_weights());
    CHECK(w[0] == Approx(1.94219663793547).epsilon(1e-6));
    CHECK(w[1] == Approx(1.05780336206453).epsilon(1e-6));
    CHECK(w[2] == 0.0);
  }
  SECTION("all classes at 100%: uniform, not 0/0") {
    CdbLoss loss(o, loss_context({10, 10, 10}));
    loss.on_validation(val_stats({1.0, 1.0, 1.0}));
    CHECK(loss.tau() == Approx(0.9950495453913548));  // r = 1 / 1.01
    CHECK(to_vector(loss.class_weights()) == std::vector<double>{1.0, 1.0, 1.0});
  }
  SECTION("all classes at 100% with a floor: uniform") {
    o.min_difficulty = 1e-3;
    CdbLoss loss(o, loss_context({10, 10, 10}));
    loss.on_validation(val_stats({1.0, 1.0, 1.0}));
    for (double w : to_vector(loss.class_weights())) CHECK(w == Approx(1.0));
  }
  SECTION("a class without validation samples counts as unmeasured (difficulty 1)") {
    o.tau_mode = CdbLoss::Options::TauMode::kFixed;
    o.tau = 1.0;
    CdbLoss loss(o, loss_context({10, 10, 10}));
    loss.on_validation(val_stats({0.5, std::numeric_limits<double>::quiet_NaN(), 1.0}));
    // d = (0.5, 1, 0), sum 1.5: (1, 2, 0).
    const auto w = to_vector(loss.class_weights());
    CHECK(w[0] == Approx(1.0));
    CHECK(w[1] == Approx(2.0));
    CHECK(w[2] == 0.0);
  }
  SECTION("test-split statistics are ignored") {
    CdbLoss loss(o, loss_context({10, 10, 10}));
    auto stats = val_stats(acc);
    stats.split = tailor::Split::kTest;
    loss.on_validation(stats);
    CHECK_FALSE(loss.measured());
    CHECK(to_vector(loss.class_weights()) == std::vector<double>{1.0, 1.0, 1.0});
  }
  SECTION("a batch of solved classes with reduction mean is 0, not NaN") {
    o.tau_mode = CdbLoss::Options::TauMode::kFixed;
    o.reduction = CdbLoss::Options::Reduction::kMean;
    CdbLoss loss(o, loss_context({10, 10, 10}));
    loss.on_validation(val_stats(acc));
    at::Tensor logits = at::randn({4, 3}).set_requires_grad(true);
    tailor::LossInput in{logits, at::full({4}, 2, at::kLong)};
    at::Tensor value = loss.forward(in);
    value.backward();
    CHECK(value.item<double>() == 0.0);
    CHECK(logits.grad().abs().sum().item<double>() == 0.0);
  }
}

TEST_CASE("cdb reports its weights as a class vector, uniform until measured", "[cdb]") {
  CdbLoss::Options o;
  o.tau_mode = CdbLoss::Options::TauMode::kFixed;
  o.tau = 1.0;
  CdbLoss loss(o, loss_context({10, 10, 10}));
  auto v = loss.class_vectors();
  CHECK(tailor::test::vector_names(v) == std::vector<std::string>{"weights"});
  CHECK(tailor::test::vector_values(v, "weights", 3) == std::vector<double>{1.0, 1.0, 1.0});
  loss.on_validation(val_stats({0.5, 0.75, 1.0}));  // d = (0.5, 0.25, 0): w = (2, 1, 0)
  v = loss.class_vectors();
  const auto w = tailor::test::vector_values(v, "weights", 3);
  CHECK(w[0] == Approx(2.0));
  CHECK(w[1] == Approx(1.0));
  CHECK(w[2] == 0.0);
}

TEST_CASE("cdb state survives a checkpoint round trip", "[cdb]") {
  CdbLoss::Options o;
  o.tau_mode = CdbLoss::Options::TauMode::kDynamicV1;
  CdbLoss trained(o, loss_context({10, 10, 10, 10}));
  trained.on_validation(val_stats({0.2, 0.9, 0.55, 1.0}));
  const tailor::NamedTensors saved = trained.state();

  CdbLoss resumed(o, loss_context({10, 10, 10, 10}));
  CHECK_FALSE(resumed.measured());
  resumed.load_state(saved);
  CHECK(resumed.measured());
  CHECK(resumed.tau() == trained.tau());
  CHECK(at::equal(resumed.class_weights(), trained.class_weights()));

  const at::Tensor logits = at::randn({5, 4});
  const at::Tensor targets = at::tensor(std::vector<int64_t>{0, 1, 2, 3, 0});
  CHECK(resumed.forward({logits, targets}).item<double>() ==
        trained.forward({logits, targets}).item<double>());

  SECTION("a checkpoint for another class count is refused") {
    CdbLoss other(o, loss_context({10, 10, 10}));
    CHECK_THROWS_WITH(other.load_state(saved),
                      Catch::Contains("checkpoint has 4 class weights, the dataset has 3"));
  }
  SECTION("a checkpoint without CDB state is refused") {
    CHECK_THROWS_WITH(resumed.load_state({}), Catch::Contains("lacks one of weights, tau"));
  }
}

TEST_CASE("cdb asks the host for validation statistics", "[cdb]") {
  CdbLoss loss(CdbLoss::Options{}, loss_context({10, 10}));
  CHECK((loss.needs() & tailor::needs::kValidationStats) != 0);
}

TEST_CASE("cdb rejects bad options with clear messages", "[cdb]") {
  CHECK_THROWS_WITH(options<CdbLoss::Options>("tau = -0.5"),
                    "exp.toml:1:7: [loss] tau must be >= 0, got -0.5");
  CHECK_THROWS_WITH(options<CdbLoss::Options>("gamma = -1.0"),
                    "exp.toml:1:9: [loss] gamma must be >= 0, got -1");
  CHECK_THROWS_WITH(options<CdbLoss::Options>("min_difficulty = 1.5"),
                    "exp.toml:1:18: [loss] min_difficulty must be [0, 1], got 1.5");
  CHECK_THROWS_WITH(
      options<CdbLoss::Options>("tau_mode = \"1.5\""),
      "exp.toml:1:12: [loss] tau_mode must be one of: dynamic, dynamic_v1, fixed, got \"1.5\"");
  CHECK_THROWS_WITH(options<CdbLoss::Options>("base = \"softmax\""),
                    "exp.toml:1:8: [loss] base must be one of: ce, focal, got \"softmax\"");
  CdbLoss loss(CdbLoss::Options{}, loss_context({10, 10, 10}));
  CHECK_THROWS_WITH(loss.on_validation(val_stats({0.5, 0.5})),
                    Catch::Contains("got 2 per-class accuracies for 3 classes"));
}

TEST_CASE("cdb README parameter table matches the options schema", "[cdb]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<CdbLoss::Options>());
}
