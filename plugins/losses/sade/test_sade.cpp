// Tests of the sade loss: golden values, the inverse prior, refusals, README table.
#include "sade.hpp"

#include "../../../tests/support/class_vectors.hpp"
#include "../../../tests/support/golden.hpp"

#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

#include <cmath>

using tailor::plugins::SadeLoss;
using tailor::testing::loss_context;

TEST_CASE("sade matches the reference of the official DiverseExpertLoss", "[sade][golden]") {
  for (const auto& g : tailor::test::load_golden("sade_loss"))
    for (const at::ScalarType dtype : {at::kFloat, at::kDouble}) {
      DYNAMIC_SECTION(g.name << " " << dtype) {
        SadeLoss::Options o;
        o.tau = g.options.at("tau").get<double>();
        SadeLoss loss(
            o, loss_context(g.raw.at("context").at("class_counts").get<std::vector<int64_t>>()));
        CHECK(at::allclose(loss.prior(), g.tensor("prior"), 1e-6, 1e-9));
        CHECK(at::allclose(loss.inverse_prior(), g.tensor("inverse_prior"), 1e-6, 1e-9));

        at::Tensor z = g.tensor("expert_logits", dtype).set_requires_grad(true);
        tailor::LossInput in;
        in.logits = z.mean(0);
        in.expert_logits = z;
        in.targets = g.tensor("targets");
        at::Tensor value = loss.forward(in);
        value.backward();
        const auto tol = tailor::test::tolerance(dtype);
        CHECK(value.scalar_type() == dtype);
        CHECK(value.item<double>() == Approx(g.scalar("loss")).epsilon(tol.value));
        CHECK(at::allclose(z.grad(), g.tensor("grad", dtype), tol.rtol, tol.atol));

        const auto terms = loss.terms(z.detach(), in.targets);
        CHECK(at::allclose(terms.expert_losses, g.tensor("expert_losses", dtype), tol.rtol,
                           tol.atol));
      }
    }
}

TEST_CASE("sade's inverse prior is the rank reversal of the prior", "[sade]") {
  // Ranks 2, 0, 3, 1 (by value): each class takes the value of the opposite rank.
  const auto inv = SadeLoss::inverse_prior({0.3, 0.1, 0.4, 0.2});
  CHECK(inv == std::vector<double>{0.2, 0.4, 0.1, 0.3});
  // Not normalised 1 / pi: the values are a permutation of the prior's.
  const auto same = SadeLoss::inverse_prior({0.5, 0.5});
  CHECK(same == std::vector<double>{0.5, 0.5});
  // Ties are ranked by class index: classes 1 and 2 (0.25 each) take ranks 0 and 1, so
  // class 1 gets the largest value and class 2 the second largest.
  const auto tied = SadeLoss::inverse_prior({0.5, 0.25, 0.25});
  CHECK(tied == std::vector<double>{0.25, 0.5, 0.25});
}

TEST_CASE("sade on a balanced training set is three plain cross-entropies", "[sade]") {
  // pi uniform: pi_bar = pi, so the shifts are constants and every expert trains plain CE.
  SadeLoss loss(SadeLoss::Options{}, loss_context({4, 4, 4}));
  const at::Tensor z = at::sin(at::arange(3 * 5 * 3, at::kDouble)).view({3, 5, 3}) * 4.0;
  const at::Tensor y = at::tensor(std::vector<int64_t>{0, 1, 2, 2, 1});
  double expected = 0.0;
  for (int64_t k = 0; k < 3; ++k) expected += at::cross_entropy_loss(z[k], y).item<double>();
  CHECK(loss.terms(z, y).loss.item<double>() == Approx(expected).epsilon(1e-12));
}

TEST_CASE("sade reports its experts' logit offsets", "[sade]") {
  SadeLoss::Options o;
  o.tau = 2.0;
  SadeLoss loss(o, loss_context({3, 1}));  // pi = 0.75, 0.25; pi_bar = 0.25, 0.75
  const auto vectors = loss.class_vectors();
  CHECK(tailor::test::vector_names(vectors) ==
        std::vector<std::string>{"balanced_offsets", "inverse_offsets"});
  const auto b = tailor::test::vector_values(vectors, "balanced_offsets", 2);
  CHECK(b[0] == Approx(std::log(0.75)));
  CHECK(b[1] == Approx(std::log(0.25)));
  const auto i = tailor::test::vector_values(vectors, "inverse_offsets", 2);
  CHECK(i[0] == Approx(std::log(0.75) - 2.0 * std::log(0.25)));
  CHECK(i[1] == Approx(std::log(0.25) - 2.0 * std::log(0.75)));
}

TEST_CASE("sade accepts a class without training samples", "[sade]") {
  // log(0 + 1e-9) is finite: the official code trains on such a split, and so does this.
  SadeLoss loss(SadeLoss::Options{}, loss_context({10, 0, 5}));
  const at::Tensor z = at::zeros({3, 2, 3});
  const at::Tensor y = at::tensor(std::vector<int64_t>{0, 2});
  CHECK(std::isfinite(loss.terms(z, y).loss.item<double>()));
}

TEST_CASE("sade asks for expert logits", "[sade]") {
  SadeLoss loss(SadeLoss::Options{}, loss_context({5, 3}));
  CHECK((loss.needs() & tailor::needs::kExpertLogits) != 0);
}

TEST_CASE("sade rejects bad input with clear messages", "[sade]") {
  SadeLoss loss(SadeLoss::Options{}, loss_context({5, 3, 2}));
  const at::Tensor z = at::zeros({4, 3});
  const at::Tensor y = at::zeros({4}, at::kLong);
  CHECK_THROWS_WITH(loss.forward({z, y}),
                    Catch::Contains("sade: the host passed no expert logits") &&
                        Catch::Contains("num_experts = 3") && Catch::Contains("`experts` head"));
  tailor::LossInput in{z, y};
  in.expert_logits = at::zeros({2, 4, 3});
  CHECK_THROWS_WITH(loss.forward(in),
                    "sade: the model has 2 experts, but SADE trains exactly 3 (softmax, balanced "
                    "softmax, inverse softmax); set num_experts = 3 on the backbone");
  in.expert_logits = at::zeros({4, 4, 3});
  CHECK_THROWS_WITH(loss.forward(in), Catch::Contains("the model has 4 experts"));
  in.expert_logits = at::zeros({3, 4, 5});
  CHECK_THROWS_WITH(loss.forward(in), "sade: expert logits must be [3, N, 3], got [3, 4, 5]");
  CHECK_THROWS_WITH(SadeLoss(SadeLoss::Options{}, loss_context({0, 0})),
                    Catch::Contains("sade: the training split has no samples"));
  CHECK_THROWS_WITH(tailor::testing::options<SadeLoss::Options>("tau = -1.0"),
                    "exp.toml:1:7: [loss] tau must be >= 0, got -1");
}

TEST_CASE("sade README parameter table matches the options schema", "[sade]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<SadeLoss::Options>());
}
