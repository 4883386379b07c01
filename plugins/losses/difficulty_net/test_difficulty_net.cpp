// Tests of the difficulty_net loss: golden weights, driver and task losses, a host-style
// look-ahead with bilevel and detached weights, Adam on phi, state round trip, option checks.
#include "difficulty_net.hpp"

#include "../../../tests/support/class_vectors.hpp"
#include "../../../tests/support/golden.hpp"

#include <torch/csrc/autograd/autograd.h>
#include <torch/optim/adam.h>
#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

using tailor::plugins::DifficultyNetLoss;
using tailor::testing::loss_context;
using tailor::testing::options;

namespace {

const std::vector<int64_t> kLtCounts = {500, 120, 40, 10, 3};

tailor::ClassStats val_stats(std::vector<double> accuracy,
                             tailor::Split split = tailor::Split::kVal) {
  tailor::ClassStats s;
  s.split = split;
  s.support.assign(accuracy.size(), 25);
  s.accuracy = std::move(accuracy);
  return s;
}

DifficultyNetLoss::Options golden_options(const nlohmann::json& j) {
  DifficultyNetLoss::Options o;
  o.hidden = j.value("hidden", o.hidden);
  o.bias = j.value("bias", o.bias);
  o.base = o.kBases.value(j.value("base", o.kBases.name(o.base)));
  o.meta_loss = o.kMetaLosses.value(j.value("meta_loss", o.kMetaLosses.name(o.meta_loss)));
  o.lambda = j.value("lambda", o.lambda);
  o.lr = j.value("lr", o.lr);
  o.weight_decay = j.value("weight_decay", o.weight_decay);
  o.detach_weights_in_virtual_step =
      j.value("detach_weights_in_virtual_step", o.detach_weights_in_virtual_step);
  return o;
}

// Replaces phi in the loss's own state by the golden case's tensors and loads it.
void load_phi(DifficultyNetLoss& loss, const tailor::test::GoldenCase& g) {
  tailor::NamedTensors state = loss.state();
  for (auto& [name, t] : state)
    if (name.rfind("phi.", 0) == 0) t = g.tensor(name);
  loss.load_state(state);
}

std::vector<at::Tensor> phi_tensors(const DifficultyNetLoss& loss) {
  std::vector<at::Tensor> out;
  for (const auto& [name, p] : loss.phi()) out.push_back(p);
  return out;
}

at::Tensor or_zeros(const at::Tensor& g, const at::Tensor& like) {
  return g.defined() ? g : at::zeros_like(like);
}

tailor::LossInput batch(const at::Tensor& logits, const at::Tensor& targets) {
  tailor::LossInput in;
  in.logits = logits;
  in.targets = targets;
  return in;
}

// A meta loss whose phi-gradient is `direction` (what a look-ahead would deliver).
at::Tensor synthetic_meta_loss(const DifficultyNetLoss& loss,
                               const std::vector<at::Tensor>& direction) {
  at::Tensor total = at::zeros({});
  const auto params = phi_tensors(loss);
  for (size_t i = 0; i < params.size(); ++i) total = total + (params[i] * direction[i]).sum();
  return total;
}

}  // namespace

TEST_CASE("difficulty_net weights, driver and task loss match the methods.md 4.2 reference",
          "[difficulty_net][golden]") {
  for (const auto& g : tailor::test::load_golden("difficulty_net")) {
    if (g.name.rfind("lookahead", 0) == 0) continue;
    DYNAMIC_SECTION(g.name) {
      DifficultyNetLoss loss(golden_options(g.options), loss_context(kLtCounts, 4));
      load_phi(loss, g);
      loss.on_validation(val_stats(g.raw.at("context").at("accuracy").get<std::vector<double>>()));
      CHECK(at::allclose(loss.difficulties(), g.tensor("d"), 1e-5, 1e-7));
      CHECK(at::allclose(loss.weights(), g.tensor("w"), 1e-5, 1e-7));
      CHECK(at::allclose(loss.class_weights(), g.tensor("w"), 1e-5, 1e-7));
      CHECK_FALSE(loss.class_weights().requires_grad());

      at::Tensor logits = g.tensor("logits").set_requires_grad(true);
      const at::Tensor value = loss.forward(batch(logits, g.tensor("targets")));
      CHECK(value.item<double>() == Approx(g.scalar("loss")).epsilon(1e-5));
      std::vector<at::Tensor> inputs = {logits};
      for (const auto& p : phi_tensors(loss)) inputs.push_back(p);
      const auto grads = torch::autograd::grad({value}, inputs, {}, false, false, true);
      CHECK(at::allclose(grads[0], g.tensor("grad_logits"), 1e-4, 1e-6));
      // By default the weights stay on phi's graph: the task loss reaches phi.
      for (size_t i = 0; i < loss.phi().size(); ++i) {
        const auto& [name, p] = loss.phi()[i];
        INFO(name);
        CHECK(at::allclose(or_zeros(grads[i + 1], p), g.tensor("task_grad." + name), 1e-4, 1e-7));
      }

      const at::Tensor driver = loss.driver_loss();
      CHECK(driver.item<double>() == Approx(g.scalar("driver")).epsilon(1e-5));
      const auto driver_grads =
          torch::autograd::grad({driver}, phi_tensors(loss), {}, false, false, true);
      for (size_t i = 0; i < loss.phi().size(); ++i) {
        const auto& [name, p] = loss.phi()[i];
        INFO(name);
        CHECK(at::allclose(or_zeros(driver_grads[i], p), g.tensor("driver_grad." + name), 1e-4,
                           1e-7));
      }
    }
  }
}

TEST_CASE("difficulty_net in float64 matches the reference to 1e-12", "[difficulty_net][golden]") {
  // phi is a float32 parameter (the golden phi holds float32 values); with float64 logits the
  // loss computes phi(a), the weights and the task loss in float64 from the float64 inputs.
  for (const auto& g : tailor::test::load_golden("difficulty_net")) {
    if (g.name.rfind("lookahead", 0) == 0) continue;
    DYNAMIC_SECTION(g.name) {
      const auto tol = tailor::test::tolerance(at::kDouble);
      DifficultyNetLoss loss(golden_options(g.options), loss_context(kLtCounts, 4));
      load_phi(loss, g);
      loss.on_validation(val_stats(g.raw.at("context").at("accuracy").get<std::vector<double>>()));
      CHECK(at::allclose(loss.difficulties(at::kDouble), g.tensor("d", at::kDouble), tol.rtol,
                         tol.atol));
      CHECK(
          at::allclose(loss.weights(at::kDouble), g.tensor("w", at::kDouble), tol.rtol, tol.atol));
      CHECK(loss.driver_loss(at::kDouble).item<double>() ==
            Approx(g.scalar("driver")).epsilon(tol.value));

      at::Tensor logits = g.tensor("logits", at::kDouble).set_requires_grad(true);
      const at::Tensor value = loss.forward(batch(logits, g.tensor("targets")));
      CHECK(value.scalar_type() == at::kDouble);
      CHECK(value.item<double>() == Approx(g.scalar("loss")).epsilon(tol.value));
      std::vector<at::Tensor> inputs = {logits};
      for (const auto& p : phi_tensors(loss)) inputs.push_back(p);
      const auto grads = torch::autograd::grad({value}, inputs, {}, false, false, true);
      CHECK(at::allclose(grads[0], g.tensor("grad_logits", at::kDouble), tol.rtol, tol.atol));
      // phi's gradient, computed in float64, lands in float32 parameters.
      for (size_t i = 0; i < loss.phi().size(); ++i) {
        const auto& [name, p] = loss.phi()[i];
        INFO(name);
        CHECK(at::allclose(or_zeros(grads[i + 1], p), g.tensor("task_grad." + name), 1e-6, 1e-12));
      }
    }
  }
}

TEST_CASE("difficulty_net inside a host-style look-ahead: bilevel vs detached weights",
          "[difficulty_net][golden]") {
  for (const auto& g : tailor::test::load_golden("difficulty_net")) {
    if (g.name.rfind("lookahead", 0) != 0) continue;
    DYNAMIC_SECTION(g.name) {
      const DifficultyNetLoss::Options o = golden_options(g.options);
      DifficultyNetLoss loss(o, loss_context(kLtCounts, 4));
      load_phi(loss, g);
      loss.on_validation(val_stats(g.raw.at("context").at("accuracy").get<std::vector<double>>()));
      // A second loss with the same phi, stepped by the driver term alone.
      DifficultyNetLoss driver_only(o, loss_context(kLtCounts, 4));
      driver_only.load_state(loss.state());

      const at::Tensor features = g.tensor("features"), targets = g.tensor("targets");
      const at::Tensor meta_features = g.tensor("meta_features");
      const at::Tensor meta_targets = g.tensor("meta_targets");
      const double alpha = g.scalar("alpha");
      for (int step = 1; step <= 2; ++step) {
        INFO("meta step " << step);
        // What the host's meta_step does with scope = "head": detached copies of the head,
        // the inner loss from this loss's forward(), a differentiable virtual SGD step, the
        // loss's meta_loss() (the unweighted base loss, or CE) of the stepped head on a
        // class-balanced meta batch.
        const at::Tensor w = g.tensor("head_weight").set_requires_grad(true);
        const at::Tensor b = g.tensor("head_bias").set_requires_grad(true);
        const at::Tensor inner = loss.forward(batch(at::linear(features, w, b), targets));
        const auto gw = torch::autograd::grad({inner}, {w, b}, {}, true, true, true);
        const at::Tensor meta = loss.meta_loss(
            at::linear(meta_features, w - alpha * gw[0], b - alpha * gw[1]), meta_targets);
        CHECK(meta.item<double>() ==
              Approx(g.scalar("meta_loss_" + std::to_string(step))).epsilon(1e-5));

        const auto meta_grads =
            torch::autograd::grad({meta}, phi_tensors(loss), {}, true, false, true);
        double largest = 0.0;
        for (size_t i = 0; i < loss.phi().size(); ++i) {
          const auto& [name, p] = loss.phi()[i];
          INFO(name);
          const at::Tensor got = or_zeros(meta_grads[i], p);
          CHECK(at::allclose(got, g.tensor("meta_grad_" + std::to_string(step) + "." + name), 1e-4,
                             1e-8));
          largest = std::max(largest, got.abs().max().item<double>());
        }
        if (o.detach_weights_in_virtual_step)
          CHECK(largest == 0.0);  // exactly: the weights were constants in the virtual step
        else
          CHECK(largest > 1e-5);  // the bilevel meta-gradient really reaches phi

        loss.meta_update(meta, {});
        driver_only.meta_update(at::zeros({}), {});  // a meta loss without a graph: driver only
        CHECK(loss.adam_steps() == step);
        for (const auto& [name, p] : loss.phi()) {
          INFO(name);
          CHECK(
              at::allclose(p, g.tensor("after_" + std::to_string(step) + "." + name), 1e-5, 1e-6));
        }
        // Official behaviour: phi moved exactly as one driver-only Adam step moves it.
        if (o.detach_weights_in_virtual_step)
          for (size_t i = 0; i < loss.phi().size(); ++i)
            CHECK(at::equal(loss.phi()[i].second, driver_only.phi()[i].second));

        // The real step follows: its weights are constants, nothing reaches phi.
        at::Tensor logits = at::linear(features, g.tensor("head_weight"), g.tensor("head_bias"))
                                .set_requires_grad(true);
        loss.forward(batch(logits, targets)).backward();
        CHECK(logits.grad().defined());
        for (const auto& [name, p] : loss.phi()) CHECK_FALSE(p.grad().defined());
      }
      CHECK(at::allclose(loss.class_weights(), g.tensor("w_after_2"), 1e-5, 1e-6));
    }
  }
}

TEST_CASE("difficulty_net starts uniform: bias-free phi on a = 0 gives d = 0.5, no gradient",
          "[difficulty_net]") {
  at::manual_seed(1);
  DifficultyNetLoss::Options o;
  o.hidden = 16;
  DifficultyNetLoss loss(o, loss_context(kLtCounts, 4));
  CHECK(loss.needs() == (tailor::needs::kValidationStats | tailor::needs::kMetaStep));
  CHECK(loss.parameters().empty());  // phi is the loss's own business, not the host optimizer's
  CHECK(at::equal(loss.accuracy(), at::zeros({5}, at::kDouble)));
  CHECK(at::equal(loss.difficulties(), at::full({5}, 0.5f)));
  CHECK(at::equal(loss.class_weights(), at::ones({5})));
  // methods.md 4.7.5: nothing reaches phi while a = 0.
  const auto grads =
      torch::autograd::grad({loss.driver_loss()}, phi_tensors(loss), {}, false, false, true);
  for (size_t i = 0; i < grads.size(); ++i)
    CHECK(or_zeros(grads[i], phi_tensors(loss)[i]).abs().max().item<double>() == 0.0);
}

TEST_CASE("difficulty_net reports weights and difficulties as class vectors", "[difficulty_net]") {
  at::manual_seed(3);
  DifficultyNetLoss::Options o;
  o.hidden = 8;
  o.bias = true;
  DifficultyNetLoss loss(o, loss_context(kLtCounts, 4));
  loss.on_validation(val_stats({0.9, 0.8, 0.5, 0.1, 0.0}));
  const auto v = loss.class_vectors();
  CHECK(tailor::test::vector_names(v) == std::vector<std::string>{"weights", "difficulties"});
  for (const auto& [name, t] : v) CHECK_FALSE(t.requires_grad());
  const auto w = tailor::test::vector_values(v, "weights", 5);
  const auto d = tailor::test::vector_values(v, "difficulties", 5);
  const at::Tensor expected_d = loss.difficulties().detach().to(at::kDouble);
  double sum_d = 0, sum_w = 0;
  for (size_t c = 0; c < 5; ++c) {
    CHECK(d[c] == Approx(expected_d[static_cast<int64_t>(c)].item<double>()));
    sum_d += d[c];
    sum_w += w[c];
  }
  for (size_t c = 0; c < 5; ++c) CHECK(w[c] == Approx(5.0 * d[c] / sum_d).epsilon(1e-6));
  CHECK(sum_w == Approx(5.0).epsilon(1e-6));
}

TEST_CASE("difficulty_net accuracies: val only, NaN as 0", "[difficulty_net]") {
  DifficultyNetLoss loss(DifficultyNetLoss::Options{}, loss_context(kLtCounts, 4));
  loss.on_validation(val_stats({0.9, 0.8, 0.5, 0.1, 0.0}));
  loss.on_validation(val_stats({1.0, 1.0, 1.0, 1.0, 1.0}, tailor::Split::kTest));  // ignored
  CHECK(at::allclose(loss.accuracy(), at::tensor({0.9, 0.8, 0.5, 0.1, 0.0}, at::kDouble)));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  loss.on_validation(val_stats({0.5, nan, 0.5, 0.5, 0.5}));
  CHECK(at::allclose(loss.accuracy(), at::tensor({0.5, 0.0, 0.5, 0.5, 0.5}, at::kDouble)));
  CHECK_THROWS_WITH(loss.on_validation(val_stats({0.5, 0.5})),
                    Catch::Contains("got 2 per-class accuracies for 5 classes"));
  CHECK_THROWS_WITH(loss.on_validation(val_stats({0.5, 1.5, 0.5, 0.5, 0.5})),
                    Catch::Contains("outside [0, 1]"));
}

TEST_CASE("difficulty_net's Adam on phi is torch::optim::Adam", "[difficulty_net]") {
  at::manual_seed(2);
  DifficultyNetLoss::Options o;
  o.hidden = 6;
  o.bias = true;
  o.lambda = 0.0;  // the meta loss alone drives phi here
  o.lr = 1e-2;
  o.weight_decay = 1e-3;
  o.betas = {0.8, 0.99};
  o.adam_eps = 1e-6;
  DifficultyNetLoss loss(o, loss_context(kLtCounts, 4));
  std::vector<at::Tensor> reference;
  for (const auto& p : phi_tensors(loss))
    reference.push_back(p.detach().clone().set_requires_grad(true));
  torch::optim::Adam adam(reference, torch::optim::AdamOptions(o.lr)
                                         .betas({o.betas[0], o.betas[1]})
                                         .eps(o.adam_eps)
                                         .weight_decay(o.weight_decay));
  for (int step = 0; step < 3; ++step) {
    std::vector<at::Tensor> direction;
    for (const auto& p : reference) direction.push_back(at::randn_like(p));
    loss.meta_update(synthetic_meta_loss(loss, direction), {});
    for (size_t i = 0; i < reference.size(); ++i)
      reference[i].mutable_grad() = direction[i].clone();
    adam.step();
    for (size_t i = 0; i < reference.size(); ++i)
      CHECK(at::allclose(phi_tensors(loss)[i], reference[i], 0, 1e-7));
  }
}

TEST_CASE("difficulty_net state round trip resumes exactly", "[difficulty_net]") {
  DifficultyNetLoss::Options o;
  o.hidden = 8;
  o.lr = 1e-3;
  at::manual_seed(4);
  DifficultyNetLoss loss(o, loss_context(kLtCounts, 4));
  loss.on_validation(val_stats({0.9, 0.6, 0.4, 0.2, 0.1}));
  std::vector<at::Tensor> direction;
  for (const auto& p : phi_tensors(loss)) direction.push_back(at::randn_like(p));
  for (int i = 0; i < 3; ++i) loss.meta_update(synthetic_meta_loss(loss, direction), {});

  at::manual_seed(5);  // a different initialisation, overwritten by the state
  DifficultyNetLoss resumed(o, loss_context(kLtCounts, 4));
  resumed.load_state(loss.state());
  CHECK(resumed.adam_steps() == 3);
  CHECK(at::equal(resumed.accuracy(), loss.accuracy()));
  for (int i = 0; i < 2; ++i) {
    loss.meta_update(synthetic_meta_loss(loss, direction), {});
    resumed.meta_update(synthetic_meta_loss(resumed, direction), {});
  }
  for (size_t i = 0; i < loss.phi().size(); ++i)
    CHECK(at::equal(loss.phi()[i].second, resumed.phi()[i].second));  // moments restored too
  CHECK(at::equal(loss.class_weights(), resumed.class_weights()));

  o.hidden = 9;
  DifficultyNetLoss other(o, loss_context(kLtCounts, 4));
  CHECK_THROWS_WITH(other.load_state(loss.state()), Catch::Contains("expected [9, 5]"));
  CHECK_THROWS_WITH(other.load_state({}), Catch::Contains("lacks phi.0.weight"));
  o.hidden = 8;
  o.bias = true;
  DifficultyNetLoss with_bias(o, loss_context(kLtCounts, 4));
  CHECK_THROWS_WITH(with_bias.load_state(loss.state()), Catch::Contains("lacks phi.0.bias"));
}

TEST_CASE("difficulty_net initialisation follows the experiment seed", "[difficulty_net]") {
  at::manual_seed(7);
  DifficultyNetLoss a(DifficultyNetLoss::Options{}, loss_context(kLtCounts, 4));
  at::manual_seed(7);
  DifficultyNetLoss b(DifficultyNetLoss::Options{}, loss_context(kLtCounts, 4));
  for (size_t i = 0; i < a.phi().size(); ++i)
    CHECK(at::equal(a.phi()[i].second, b.phi()[i].second));
  // Default CIFAR architecture: 5 -> 128 -> 128 -> 5, bias-free, U(+-1/sqrt(fan_in)).
  REQUIRE(a.phi().size() == 3);
  CHECK(a.phi()[0].second.sizes() == at::IntArrayRef({128, 5}));
  CHECK(a.phi()[2].second.sizes() == at::IntArrayRef({5, 128}));
  CHECK(a.phi()[0].second.abs().max().item<double>() <= 1.0 / std::sqrt(5.0));
}

TEST_CASE("difficulty_net rejects bad options", "[difficulty_net]") {
  DifficultyNetLoss::Options o;
  o.lambda = -0.1;
  CHECK_THROWS_WITH(DifficultyNetLoss(o, loss_context(kLtCounts, 4)),
                    Catch::Contains("lambda must be >= 0"));
  o = {};
  o.hidden = 0;
  CHECK_THROWS_WITH(DifficultyNetLoss(o, loss_context(kLtCounts, 4)),
                    Catch::Contains("hidden must be >= 1"));
  o = {};
  o.betas = {0.9};
  CHECK_THROWS_WITH(DifficultyNetLoss(o, loss_context(kLtCounts, 4)),
                    Catch::Contains("betas needs two values"));
  o = {};
  o.base = DifficultyNetLoss::Options::Base::kBalancedSoftmax;
  CHECK_THROWS_WITH(DifficultyNetLoss(o, loss_context({10, 0, 2}, 4)),
                    Catch::Contains("class 1 has 0 training samples"));
  CHECK_NOTHROW(DifficultyNetLoss(DifficultyNetLoss::Options{}, loss_context({10, 0, 2}, 4)));

  CHECK_THROWS_WITH(options<DifficultyNetLoss::Options>("lambda = -1.0"),
                    Catch::Contains("exp.toml:1:10: [loss] lambda must be >= 0"));
  CHECK_THROWS_WITH(options<DifficultyNetLoss::Options>("hidden = 0"),
                    Catch::Contains("[loss] hidden must be >= 1"));

  DifficultyNetLoss loss(DifficultyNetLoss::Options{}, loss_context(kLtCounts, 4));
  CHECK_THROWS_WITH(loss.forward(batch(at::zeros({2, 3}), at::zeros({2}, at::kLong))),
                    Catch::Contains("logits must be [N, 5]"));
  CHECK_THROWS_WITH(loss.meta_update(at::Tensor(), {}), Catch::Contains("scalar meta loss"));
}

TEST_CASE("difficulty_net README parameter table matches the options schema", "[difficulty_net]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<DifficultyNetLoss::Options>());
}
