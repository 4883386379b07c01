// Tests of the ce loss: golden values from PyTorch, option checks, README table.
#include "ce.hpp"

#include "../../../tests/support/class_vectors.hpp"
#include "../../../tests/support/golden.hpp"
#include "../../../tests/support/mixed_targets.hpp"

#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

#include <utility>
#include <vector>

using tailor::plugins::CrossEntropy;
using tailor::testing::loss_context;

namespace {

// forward() as it was before mixed batches (SDK 1.3), op for op.
at::Tensor ce_before_mixing(const at::Tensor& logits, const at::Tensor& targets,
                            const std::vector<double>& class_weights, double eps,
                            CrossEntropy::Options::Reduction reduction) {
  const int64_t num_classes = logits.size(1);
  const at::Tensor log_p = at::log_softmax(logits, 1);
  const at::Tensor nll = -log_p.gather(1, targets.unsqueeze(1)).squeeze(1);
  at::Tensor w_y;
  at::Tensor per_sample = nll;
  if (!class_weights.empty()) {
    const at::Tensor w = tailor::Constant(class_weights, logits.device()).like(logits);
    w_y = w.index_select(0, targets);
    per_sample = w_y * nll;
    if (eps > 0.0) per_sample = (1.0 - eps) * per_sample - (eps / num_classes) * (log_p * w).sum(1);
  } else if (eps > 0.0) {
    per_sample = (1.0 - eps) * nll - (eps / num_classes) * log_p.sum(1);
  }
  using Reduction = CrossEntropy::Options::Reduction;
  if (reduction == Reduction::kSum) return per_sample.sum();
  if (reduction == Reduction::kBatchMean || !w_y.defined()) return per_sample.mean();
  return per_sample.sum() / w_y.sum();
}

}  // namespace

TEST_CASE("ce matches torch.nn.functional.cross_entropy", "[ce][golden]") {
  for (const auto& g : tailor::test::load_golden("ce"))
    for (const at::ScalarType dtype : {at::kFloat, at::kDouble}) {
      DYNAMIC_SECTION(g.name << " " << dtype) {
        CrossEntropy::Options o;
        o.class_weights = g.options.value("class_weights", std::vector<double>{});
        o.label_smoothing = g.options.value("label_smoothing", 0.0);
        o.reduction = o.kReductions.value(g.options.value("reduction", "mean"));
        at::Tensor logits = g.tensor("logits", dtype).set_requires_grad(true);
        CrossEntropy loss(o, loss_context(std::vector<int64_t>(logits.size(1), 1)));
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

TEST_CASE("ce rejects class_weights of the wrong length", "[ce]") {
  CrossEntropy::Options o;
  o.class_weights = {1.0, 2.0};
  CHECK_THROWS_WITH(CrossEntropy(o, loss_context({1, 1, 1})),
                    Catch::Contains("class_weights has 2 entries but the dataset has 3 classes"));
}

TEST_CASE("ce reports its class weights as a class vector", "[ce]") {
  CrossEntropy::Options o;
  CHECK(CrossEntropy(o, loss_context({1, 1, 1})).class_vectors().empty());
  o.class_weights = {0.5, 1.0, 2.0};
  const auto v = CrossEntropy(o, loss_context({1, 1, 1})).class_vectors();
  CHECK(tailor::test::vector_names(v) == std::vector<std::string>{"weights"});
  CHECK(tailor::test::vector_values(v, "weights", 3) == std::vector<double>{0.5, 1.0, 2.0});
}

// An unmixed batch runs the operations of forward() before mixed batches, bit for bit; a
// mixed one with mix weight 1 is the unmixed loss, with a constant weight lam the official
// lam L(y_a) + (1 - lam) L(y_b).
TEST_CASE("ce on unmixed and mixed batches", "[ce][mixed]") {
  using Reduction = CrossEntropy::Options::Reduction;
  at::manual_seed(5);
  const at::Tensor logits = at::randn({6, 4}, at::kDouble) * 2.0;
  const at::Tensor y = at::tensor(std::vector<int64_t>{0, 1, 2, 3, 3, 0});
  const at::Tensor y_b = at::tensor(std::vector<int64_t>{1, 1, 0, 2, 3, 2});
  const std::vector<std::vector<double>> weightings = {{}, {0.5, 1.0, 2.0, 4.0}};
  for (const at::ScalarType dtype : {at::kFloat, at::kDouble})
    for (const auto& weights : weightings)
      for (const double eps : {0.0, 0.1})
        for (const Reduction reduction :
             {Reduction::kMean, Reduction::kBatchMean, Reduction::kSum}) {
          DYNAMIC_SECTION(dtype << " weights " << weights.size() << " eps " << eps << " "
                                << CrossEntropy::Options::kReductions.name(reduction)) {
            CrossEntropy::Options o;
            o.class_weights = weights;
            o.label_smoothing = eps;
            o.reduction = reduction;
            CrossEntropy loss(o, loss_context({1, 1, 1, 1}));
            const at::Tensor z = logits.to(dtype);
            tailor::test::check_mixed_targets(
                loss, z, y, y_b, [&](const at::Tensor& x, const at::Tensor& t) {
                  return ce_before_mixing(x, t, weights, eps, reduction);
                });
          }
        }
}

// Mixed batches against the Python script's CMO and mixup cases (tests/golden/
// make_goldens_wave2.py): the label mass lambda of y_a, 1 - lambda of y_b.
TEST_CASE("ce on mixed batches matches the CMO and mixup goldens", "[ce][mixed][golden]") {
  for (const char* file : {"cmo_cutmix", "mixup"})
    for (const auto& g : tailor::test::load_golden(file)) {
      if (g.options.contains("loss") && g.options.at("loss") != "ce") continue;
      for (const at::ScalarType dtype : {at::kFloat, at::kDouble}) {
        DYNAMIC_SECTION(file << " " << g.name << " " << dtype) {
          CrossEntropy loss(CrossEntropy::Options{}, loss_context(std::vector<int64_t>(6, 1)));
          const double lambda = g.raw.at("scalars").contains("lambda_adjusted")
                                    ? g.scalar("lambda_adjusted")
                                    : g.scalar("lambda");
          at::Tensor logits = g.tensor("logits", dtype).set_requires_grad(true);
          tailor::LossInput in{logits, g.tensor("targets_a")};
          in.targets_b = g.tensor("targets_b");
          in.mix_weight = at::full({logits.size(0)}, lambda, logits.options().requires_grad(false));
          at::Tensor value = loss.forward(in);
          value.backward();
          const auto tol = tailor::test::tolerance(dtype);
          CHECK(value.item<double>() == Approx(g.scalar("loss")).epsilon(tol.value));
          CHECK(at::allclose(logits.grad(), g.tensor("grad", dtype), tol.rtol, tol.atol));
        }
      }
    }
}

TEST_CASE("ce README parameter table matches the options schema", "[ce]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<CrossEntropy::Options>());
}
