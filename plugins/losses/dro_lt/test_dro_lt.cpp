// Tests of the dro_lt loss: golden values and gradients, the eps gradient sign, centroids,
// state round trip, option checks, README table.
#include "dro_lt.hpp"

#include "../../../tests/support/class_vectors.hpp"
#include "../../../tests/support/golden.hpp"

#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

#include <cmath>

using tailor::plugins::DroLtLoss;
using tailor::testing::loss_context;
using tailor::testing::options;

namespace {

const std::vector<int64_t> kLtCounts = {500, 120, 40, 10, 3};

DroLtLoss::Options golden_options(const nlohmann::json& j) {
  DroLtLoss::Options o;
  o.lambda = j.value("lambda", o.lambda);
  o.temperature = j.value("temperature", o.temperature);
  o.epsilon_mode =
      o.kEpsilonModes.value(j.value("epsilon_mode", o.kEpsilonModes.name(o.epsilon_mode)));
  o.epsilon = j.value("epsilon", o.epsilon);
  o.epsilon_pairing =
      o.kPairings.value(j.value("epsilon_pairing", o.kPairings.name(o.epsilon_pairing)));
  o.ce = o.kCes.value(j.value("ce", o.kCes.name(o.ce)));
  o.robust_weights =
      o.kRobustWeights.value(j.value("robust_weights", o.kRobustWeights.name(o.robust_weights)));
  return o;
}

void set_epsilon(DroLtLoss& loss, const at::Tensor& eps) {
  tailor::NamedTensors state = loss.state();
  for (auto& [name, t] : state)
    if (name == "epsilon") t = eps;
  loss.load_state(state);
}

tailor::LossInput batch(const at::Tensor& logits, const at::Tensor& targets,
                        const at::Tensor& features) {
  tailor::LossInput in;
  in.logits = logits;
  in.targets = targets;
  in.features = features;
  return in;
}

}  // namespace

TEST_CASE("dro_lt matches the methods.md 5.2 reference", "[dro_lt][golden]") {
  for (const auto& g : tailor::test::load_golden("dro_lt"))
    for (const at::ScalarType dtype : {at::kFloat, at::kDouble}) {
      DYNAMIC_SECTION(g.name << " " << dtype) {
        const auto tol = tailor::test::tolerance(dtype);
        const DroLtLoss::Options o = golden_options(g.options);
        const at::Tensor bank = g.tensor("bank", dtype);
        DroLtLoss loss(o, loss_context(kLtCounts, bank.size(1)));
        loss.on_feature_bank(bank, g.tensor("bank_labels"), {});
        CHECK(at::allclose(loss.centroids(), g.tensor("centroids"), 1e-6, 1e-6));
        if (g.has("epsilon_values")) set_epsilon(loss, g.tensor("epsilon_values"));
        CHECK(at::allclose(loss.epsilon(), g.tensor("epsilon"), 1e-6, 1e-7));

        at::Tensor features = g.tensor("features", dtype).set_requires_grad(true);
        at::Tensor logits = g.tensor("logits", dtype).set_requires_grad(true);
        const at::Tensor targets = g.tensor("targets");
        at::Tensor value = loss.forward(batch(logits, targets, features));
        value.backward();
        CHECK(value.item<double>() == Approx(g.scalar("loss")).epsilon(tol.value));
        const auto grad_or_zeros = [](const at::Tensor& x) {
          return x.grad().defined() ? x.grad() : at::zeros_like(x);
        };
        CHECK(at::allclose(grad_or_zeros(features), g.tensor("grad_features", dtype), tol.rtol,
                           tol.atol));
        CHECK(at::allclose(grad_or_zeros(logits), g.tensor("grad_logits", dtype), tol.rtol,
                           tol.atol));
        if (o.epsilon_mode == DroLtLoss::Options::EpsilonMode::kLearned) {
          // At T = 0.07 the logits -D/T reach ~100 and float32 resolves 1 - P_c only to ~1e-7,
          // times 1/T: a saturated class's eps gradient (~1e-15 exactly) comes out ~2e-6.
          // Learned eps is a float32 parameter: in float64 its gradient is rounded to float32.
          const double rtol = dtype == at::kDouble ? 1e-6 : 1e-4;
          const double atol = dtype == at::kDouble ? 1e-12 : o.temperature < 0.1 ? 5e-6 : 1e-6;
          CHECK(at::allclose(grad_or_zeros(loss.epsilon()), g.tensor("grad_epsilon"), rtol, atol));
        } else {
          CHECK_FALSE(loss.epsilon().requires_grad());
          CHECK(loss.parameters().empty());
        }
        CHECK(loss.robustness_loss(features, targets).item<double>() ==
              Approx(g.scalar("rob_loss")).epsilon(tol.value));
      }
    }
}

TEST_CASE("dro_lt eps gradient is (1/T)(1 - P_c)/|present| > 0, so SGD shrinks eps", "[dro_lt]") {
  // methods.md 5.7.1, derived: d l_c / d eps_c = (1/T)(1 - P_c), P_c the softmax mass on c's
  // positives; the mean over present classes divides by their number.
  const auto g = tailor::test::load_golden("dro_lt").front();
  for (const double temperature : {1.0, 0.5}) {
    DroLtLoss::Options o;
    o.temperature = temperature;
    o.ce = DroLtLoss::Options::Ce::kOff;
    DroLtLoss loss(o, loss_context(kLtCounts, 6));
    loss.on_feature_bank(g.tensor("bank"), g.tensor("bank_labels"), {});
    const at::Tensor f = g.tensor("features"), y = g.tensor("targets");
    loss.forward(batch(g.tensor("logits"), y, f)).backward();
    const at::Tensor grad = loss.epsilon().grad();

    const at::Tensor dist = at::cdist(loss.centroids(), f);  // [C, N]
    const at::Tensor mask = (at::arange(5).unsqueeze(1) == y.unsqueeze(0)).to(at::kFloat);
    const at::Tensor p =
        at::softmax(-(dist + mask * loss.epsilon().detach().unsqueeze(1)) / temperature, 1);
    const at::Tensor positive_mass = (p * mask).sum(1);
    const at::Tensor present = mask.sum(1) > 0;
    const double num_present = present.sum().item<double>();
    const at::Tensor expected =
        at::where(present, (1.0 - positive_mass) / temperature / num_present, at::zeros_like(grad));
    CHECK(at::allclose(grad, expected, 1e-5, 1e-7));
    CHECK((grad.masked_select(present) > 0).all().item<bool>());
    CHECK(grad[4].item<double>() == 0.0);  // class 4 is absent from the batch

    // One plain SGD step on eps: every present class's margin decreases.
    const at::Tensor before = loss.epsilon().detach().clone();
    {
      torch::NoGradGuard no_grad;
      loss.epsilon().sub_(0.1 * grad);
    }
    CHECK(
        (loss.epsilon().masked_select(present) < before.masked_select(present)).all().item<bool>());
  }
}

TEST_CASE("dro_lt centroids are the class means of the feature bank", "[dro_lt]") {
  DroLtLoss loss(DroLtLoss::Options{}, loss_context({10, 10, 10}, 2));
  CHECK(loss.needs() == (tailor::needs::kFeatures | tailor::needs::kFeatureBank));
  const at::Tensor bank =
      at::tensor({0.f, 0.f, 2.f, 0.f, 1.f, 3.f, 1.f, 1.f, 5.f, 5.f}).view({5, 2});
  const at::Tensor labels = at::tensor({0, 0, 1, 1, 0}, at::kLong);
  const at::Tensor logits = at::zeros({2, 3});
  CHECK_THROWS_WITH(loss.forward(batch(logits, at::tensor({0, 1}, at::kLong), at::zeros({2, 2}))),
                    Catch::Contains("no class centroids yet"));
  loss.on_feature_bank(bank, labels, {});
  const at::Tensor expected = at::tensor({7.f / 3, 5.f / 3, 1.f, 2.f, 0.f, 0.f}).view({3, 2});
  CHECK(at::allclose(loss.centroids(), expected));
  CHECK(at::equal(loss.centroid_counts(), at::tensor({3, 2, 0}, at::kLong)));
  // Class 2 has no centroid: fine while it stays out of the batch, an error when it is in it.
  CHECK(std::isfinite(
      loss.forward(batch(logits, at::tensor({0, 1}, at::kLong), at::ones({2, 2}))).item<double>()));
  CHECK_THROWS_WITH(
      loss.forward(batch(logits, at::tensor({0, 2}, at::kLong), at::ones({2, 2}))),
      Catch::Contains("class 2 is in the batch but had no sample in the feature bank"));
  // A new bank replaces the old centroids.
  loss.on_feature_bank(bank + 1, at::tensor({2, 2, 1, 1, 0}, at::kLong), {});
  CHECK(at::allclose(loss.centroids()[2], at::tensor({2.f, 1.f})));
}

TEST_CASE("dro_lt robustness loss: single-class batch and a sample on its centroid", "[dro_lt]") {
  DroLtLoss::Options o;
  o.ce = DroLtLoss::Options::Ce::kOff;
  DroLtLoss loss(o, loss_context({4, 4}, 2));
  loss.on_feature_bank(at::tensor({0.f, 0.f, 3.f, 4.f}).view({2, 2}), at::tensor({0, 1}, at::kLong),
                       {});
  // Every sample of the batch is a positive of the one centroid: log p sums to 0 over the batch
  // shares, loss = -mean_i log(1/N) = log N for equal distances.
  at::Tensor f = at::tensor({3.f, 0.f, 0.f, 3.f}).view({2, 2}).set_requires_grad(true);
  at::Tensor value = loss.forward(batch(at::zeros({2, 2}), at::tensor({0, 0}, at::kLong), f));
  CHECK(value.item<double>() == Approx(std::log(2.0)));
  // A feature exactly on its centroid has a zero distance: finite loss and gradient.
  at::Tensor on = at::tensor({0.f, 0.f, 3.f, 4.f}).view({2, 2}).set_requires_grad(true);
  value = loss.forward(batch(at::zeros({2, 2}), at::tensor({0, 1}, at::kLong), on));
  value.backward();
  CHECK(std::isfinite(value.item<double>()));
  CHECK(at::isfinite(on.grad()).all().item<bool>());
}

TEST_CASE("dro_lt parameters, clamping and state round trip", "[dro_lt]") {
  DroLtLoss::Options o;
  DroLtLoss loss(o, loss_context(kLtCounts, 3));
  auto params = loss.parameters();
  REQUIRE(params.size() == 1);
  CHECK(params[0].first == "epsilon");
  CHECK(params[0].second.requires_grad());
  CHECK(at::allclose(params[0].second, at::ones({5})));
  CHECK(at::allclose(loss.class_weights(),
                     at::tensor({1.0, 0.24, 0.08, 0.02, 0.006}, at::kDouble).to(at::kFloat)));

  at::manual_seed(3);
  const at::Tensor bank = at::randn({20, 3});
  const at::Tensor labels = at::arange(20, at::kLong) % 5;
  loss.on_feature_bank(bank, labels, {});
  set_epsilon(loss, at::tensor({0.5f, -0.25f, 1.f, 2.f, 0.f}));
  const tailor::NamedTensors saved = loss.state();

  // A fresh loss restored from the state computes the same value, and restores eps in place:
  // the host's optimizer keeps pointing at the same tensor.
  DroLtLoss restored(o, loss_context(kLtCounts, 3));
  const at::Tensor held = restored.parameters()[0].second;
  restored.load_state(saved);
  CHECK(held.data_ptr() == restored.epsilon().data_ptr());
  CHECK(at::equal(restored.epsilon(), loss.epsilon()));
  CHECK(at::equal(restored.centroids(), loss.centroids()));
  const at::Tensor f = at::randn({6, 3}), z = at::randn({6, 5});
  const at::Tensor y = at::tensor({0, 1, 1, 2, 3, 4}, at::kLong);
  CHECK(restored.forward(batch(z, y, f)).item<double>() ==
        loss.forward(batch(z, y, f)).item<double>());

  // clamp_epsilon projects a negative eps onto 0 before the batch.
  o.clamp_epsilon = true;
  DroLtLoss clamped(o, loss_context(kLtCounts, 3));
  clamped.load_state(saved);
  clamped.forward(batch(z, y, f));
  CHECK(at::equal(clamped.epsilon(), at::tensor({0.5f, 0.f, 1.f, 2.f, 0.f})));

  // A state without centroids (saved before the first bank) clears them.
  DroLtLoss blank(o, loss_context(kLtCounts, 3));
  restored.load_state(blank.state());
  CHECK_FALSE(restored.centroids().defined());

  CHECK_THROWS_WITH(restored.load_state({}), Catch::Contains("lacks epsilon"));
  CHECK_THROWS_WITH(restored.load_state({{"epsilon", at::ones({4})}}),
                    Catch::Contains("checkpoint has 4 margins, the dataset has 5 classes"));
  CHECK_THROWS_WITH(restored.load_state({{"epsilon", at::ones({5})},
                                         {"centroids", at::zeros({5, 4})},
                                         {"centroid_counts", at::ones({5}, at::kLong)}}),
                    Catch::Contains("expected [5, 3]"));
}

TEST_CASE("dro_lt robustness class weights", "[dro_lt]") {
  DroLtLoss::Options o;
  CHECK_FALSE(DroLtLoss(o, loss_context({1, 2, 5}, 3)).robust_weights().defined());
  // balanced: n / (C n_c) with n = 8, C = 3; long_tailed: n_c / max n.
  o.robust_weights = DroLtLoss::Options::RobustWeights::kBalanced;
  CHECK(at::allclose(DroLtLoss(o, loss_context({1, 2, 5}, 3)).robust_weights(),
                     at::tensor({8.f / 3, 4.f / 3, 8.f / 15})));
  o.robust_weights = DroLtLoss::Options::RobustWeights::kLongTailed;
  CHECK(at::allclose(DroLtLoss(o, loss_context({1, 2, 5}, 3)).robust_weights(),
                     at::tensor({0.2f, 0.4f, 1.f})));

  // Weighted: sum over present classes of u_c l_c over u summed over every centroid class.
  // One class in the batch, on its own: l_0 = log 2 (two positives at equal distance), so the
  // loss is u_0 log 2 / (u_0 + u_1 + u_2), not log 2 as the unweighted mean gives.
  o.ce = DroLtLoss::Options::Ce::kOff;
  o.robust_weights = DroLtLoss::Options::RobustWeights::kBalanced;
  DroLtLoss loss(o, loss_context({1, 2, 5}, 2));
  loss.on_feature_bank(at::zeros({3, 2}), at::tensor({0, 1, 2}, at::kLong), {});
  const at::Tensor f = at::tensor({3.f, 0.f, 0.f, 3.f}).view({2, 2});
  const double value =
      loss.forward(batch(at::zeros({2, 3}), at::tensor({0, 0}, at::kLong), f)).item<double>();
  CHECK(value == Approx((8.0 / 3) * std::log(2.0) / (8.0 / 3 + 4.0 / 3 + 8.0 / 15)));

  CHECK_THROWS_WITH(DroLtLoss(o, loss_context({10, 0, 3}, 4)),
                    Catch::Contains("robust_weights = \"balanced\" weighs class c by n / (C n_c)"));
  CHECK_THROWS_WITH(options<DroLtLoss::Options>("robust_weights = \"bal\""),
                    "exp.toml:1:18: [loss] robust_weights must be one of: none, balanced, "
                    "long_tailed, got \"bal\"");
}

TEST_CASE("dro_lt fixed and count-based margins", "[dro_lt]") {
  DroLtLoss::Options o;
  o.epsilon_mode = DroLtLoss::Options::EpsilonMode::kCount;
  o.epsilon = 2.0;
  DroLtLoss count(o, loss_context({400, 100, 4}, 3));
  CHECK(at::allclose(count.epsilon(), at::tensor({0.2f, 0.4f, 2.f})));
  CHECK(count.parameters().empty());
  o.epsilon_mode = DroLtLoss::Options::EpsilonMode::kFixed;
  DroLtLoss fixed(o, loss_context({400, 100, 4}, 3));
  CHECK(at::allclose(fixed.epsilon(), at::full({3}, 2.f)));
}

TEST_CASE("dro_lt reports its margins and CE weights as class vectors", "[dro_lt]") {
  DroLtLoss::Options o;
  o.epsilon_mode = DroLtLoss::Options::EpsilonMode::kCount;
  o.epsilon = 2.0;
  const auto v = DroLtLoss(o, loss_context({400, 100, 4}, 3)).class_vectors();
  CHECK(tailor::test::vector_names(v) == std::vector<std::string>{"epsilons", "ce_weights"});
  const auto eps = tailor::test::vector_values(v, "epsilons", 3);
  CHECK(eps[0] == Approx(0.2));
  CHECK(eps[1] == Approx(0.4));
  CHECK(eps[2] == Approx(2.0));
  const auto ce = tailor::test::vector_values(v, "ce_weights", 3);  // n_c / max n
  CHECK(ce[0] == Approx(1.0));
  CHECK(ce[1] == Approx(0.25));
  CHECK(ce[2] == Approx(0.01));
  o.ce = DroLtLoss::Options::Ce::kPlain;
  o.epsilon_mode = DroLtLoss::Options::EpsilonMode::kLearned;
  const auto learned = DroLtLoss(o, loss_context({400, 100, 4}, 3)).class_vectors();
  CHECK(tailor::test::vector_names(learned) == std::vector<std::string>{"epsilons"});
  for (const auto& [name, t] : learned) CHECK_FALSE(t.requires_grad());
}

TEST_CASE("dro_lt rejects bad options and inputs", "[dro_lt]") {
  DroLtLoss::Options o;
  o.temperature = 0.0;
  CHECK_THROWS_WITH(DroLtLoss(o, loss_context(kLtCounts, 4)),
                    Catch::Contains("temperature must be > 0"));
  o.temperature = -1.0;
  CHECK_THROWS_WITH(DroLtLoss(o, loss_context(kLtCounts, 4)),
                    Catch::Contains("temperature must be > 0"));
  CHECK_THROWS_WITH(options<DroLtLoss::Options>("temperature = 0.0"),
                    Catch::Contains("exp.toml:1:15: [loss] temperature must be > 0"));
  o = {};
  o.lambda = -1.0;
  CHECK_THROWS_WITH(DroLtLoss(o, loss_context(kLtCounts, 4)),
                    Catch::Contains("lambda must be >= 0"));

  // A class without training samples: count-based eps would divide by zero, so it is refused;
  // learned eps is fine (the class never appears in a batch, its centroid is never used).
  o = {};
  o.epsilon_mode = DroLtLoss::Options::EpsilonMode::kCount;
  CHECK_THROWS_WITH(DroLtLoss(o, loss_context({10, 0, 3}, 4)),
                    Catch::Contains("epsilon_mode = \"count\" needs every class"));
  o.epsilon_mode = DroLtLoss::Options::EpsilonMode::kLearned;
  CHECK_NOTHROW(DroLtLoss(o, loss_context({10, 0, 3}, 4)));

  // feature_dim: none at create, and a bank or batch whose width differs from the backbone's.
  CHECK_THROWS_WITH(DroLtLoss(o, loss_context(kLtCounts, 0)), Catch::Contains("feature_dim = 0"));
  tailor::LossContext short_counts = loss_context({1, 2}, 4);
  short_counts.num_classes = 5;
  CHECK_THROWS_WITH(DroLtLoss(o, short_counts),
                    Catch::Contains("got 2 class counts for 5 classes"));
  DroLtLoss loss(o, loss_context(kLtCounts, 4));
  CHECK_THROWS_WITH(loss.on_feature_bank(at::zeros({5, 3}), at::arange(5, at::kLong), {}),
                    Catch::Contains("feature bank must be [N, 4]"));
  CHECK_THROWS_WITH(loss.on_feature_bank(at::zeros({5, 4}), at::arange(5, at::kLong) + 1, {}),
                    Catch::Contains("labels must lie in [0, 5)"));
  loss.on_feature_bank(at::randn({5, 4}), at::arange(5, at::kLong), {});
  CHECK_THROWS_WITH(
      loss.forward(batch(at::zeros({2, 5}), at::tensor({0, 1}, at::kLong), at::zeros({2, 3}))),
      Catch::Contains("features must be [N, 4]"));
  CHECK_THROWS_WITH(
      loss.forward(batch(at::zeros({2, 5}), at::tensor({0, 1}, at::kLong), at::Tensor())),
      Catch::Contains("passed no features"));
}

TEST_CASE("dro_lt README parameter table matches the options schema", "[dro_lt]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<DroLtLoss::Options>());
}
