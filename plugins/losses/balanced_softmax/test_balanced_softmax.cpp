// Tests of the balanced_softmax loss: golden values, invariances, option checks, README table.
#include "balanced_softmax.hpp"

#include "../../../tests/support/golden.hpp"
#include "../../../tests/support/mixed_targets.hpp"

#include <tailor/constant.hpp>
#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <utility>
#include <vector>

using tailor::plugins::BalancedSoftmax;
using tailor::testing::loss_context;
using tailor::testing::options;

namespace {

// forward() as it was before mixed batches (SDK 1.3), op for op.
at::Tensor balanced_softmax_before_mixing(const at::Tensor& z, const at::Tensor& targets,
                                          const std::vector<int64_t>& counts,
                                          BalancedSoftmax::Options::Reduction reduction) {
  std::vector<double> log_n;
  for (int64_t n : counts) log_n.push_back(std::log(static_cast<double>(n)));
  const at::Tensor shifted = z + tailor::Constant(log_n, z.device()).like(z);
  const at::Tensor nll = -at::log_softmax(shifted, 1).gather(1, targets.unsqueeze(1)).squeeze(1);
  return reduction == BalancedSoftmax::Options::Reduction::kSum ? nll.sum() : nll.mean();
}

}  // namespace

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

// An unmixed batch runs the operations of forward() before mixed batches, bit for bit; a
// mixed one with mix weight 1 is the unmixed loss, with a constant weight lam the official
// lam L(y_a) + (1 - lam) L(y_b).
TEST_CASE("balanced_softmax on unmixed and mixed batches", "[balanced_softmax][mixed]") {
  using Reduction = BalancedSoftmax::Options::Reduction;
  const std::vector<int64_t> counts = {500, 200, 80, 30, 12, 5};
  at::manual_seed(6);
  const at::Tensor logits = at::randn({6, 6}, at::kDouble) * 2.0;
  const at::Tensor y = at::tensor(std::vector<int64_t>{0, 1, 2, 3, 4, 5});
  const at::Tensor y_b = at::tensor(std::vector<int64_t>{5, 5, 0, 2, 3, 2});
  for (const at::ScalarType dtype : {at::kFloat, at::kDouble})
    for (const Reduction reduction : {Reduction::kMean, Reduction::kSum}) {
      DYNAMIC_SECTION(dtype << " " << BalancedSoftmax::Options::kReductions.name(reduction)) {
        BalancedSoftmax::Options o;
        o.reduction = reduction;
        BalancedSoftmax loss(o, loss_context(counts));
        const at::Tensor z = logits.to(dtype);
        tailor::test::check_mixed_targets(
            loss, z, y, y_b, [&](const at::Tensor& x, const at::Tensor& t) {
              return balanced_softmax_before_mixing(x, t, counts, reduction);
            });
      }
    }
}

// CMO's mixed batch under balanced softmax (BS+CMO), against the Python script's case.
TEST_CASE("balanced_softmax on a mixed batch matches the CMO golden",
          "[balanced_softmax][mixed][golden]") {
  int cases = 0;
  for (const auto& g : tailor::test::load_golden("cmo_cutmix")) {
    if (g.options.at("loss") != "balanced_softmax") continue;
    ++cases;
    for (const at::ScalarType dtype : {at::kFloat, at::kDouble}) {
      DYNAMIC_SECTION(g.name << " " << dtype) {
        BalancedSoftmax loss(
            BalancedSoftmax::Options{},
            loss_context(g.raw.at("context").at("class_counts").get<std::vector<int64_t>>()));
        at::Tensor logits = g.tensor("logits", dtype).set_requires_grad(true);
        tailor::LossInput in{logits, g.tensor("targets_a")};
        in.targets_b = g.tensor("targets_b");
        in.mix_weight = at::full({logits.size(0)}, g.scalar("lambda_adjusted"),
                                 logits.options().requires_grad(false));
        at::Tensor value = loss.forward(in);
        value.backward();
        const auto tol = tailor::test::tolerance(dtype);
        CHECK(value.item<double>() == Approx(g.scalar("loss")).epsilon(tol.value));
        CHECK(at::allclose(logits.grad(), g.tensor("grad", dtype), tol.rtol, tol.atol));
      }
    }
  }
  CHECK(cases == 1);
}

TEST_CASE("balanced_softmax README parameter table matches the options schema",
          "[balanced_softmax]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<BalancedSoftmax::Options>());
}
