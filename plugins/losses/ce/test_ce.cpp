// Tests of the ce loss: golden values from PyTorch, option checks, README table.
#include "ce.hpp"

#include "../../../tests/support/class_vectors.hpp"
#include "../../../tests/support/golden.hpp"

#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

using tailor::plugins::CrossEntropy;
using tailor::testing::loss_context;

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

TEST_CASE("ce README parameter table matches the options schema", "[ce]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<CrossEntropy::Options>());
}
