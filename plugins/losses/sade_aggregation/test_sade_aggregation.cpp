// Tests of the sade_aggregation loss: golden values of SADE's test-time aggregation (loss,
// gradient of the expert weights, the weights after Nesterov SGD steps), the value by hand,
// the refusals, that the targets are never read, README table.
#include "sade_aggregation.hpp"

#include "../../../tests/support/golden.hpp"

#include <ATen/ATen.h>
#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

using tailor::plugins::SadeAggregationLoss;
using tailor::testing::loss_context;

namespace {

SadeAggregationLoss make_loss(int64_t num_classes) {
  return SadeAggregationLoss({}, loss_context(std::vector<int64_t>(num_classes, 1)));
}

tailor::LossInput unlabeled(const at::Tensor& logits) {
  tailor::LossInput in;
  in.logits = logits;
  in.targets = at::full({logits.size(0)}, -1, at::kLong);
  return in;
}

// torch.optim.SGD(nesterov=True, dampening=0) written out, as the golden script's
// sgd_nesterov_step: d = g + wd w; buf = d on the first step, else momentum buf + d;
// w - lr (d + momentum buf).
at::Tensor sgd_nesterov_step(const at::Tensor& w, const at::Tensor& grad, at::Tensor& buf,
                             double lr, double momentum, double weight_decay) {
  const at::Tensor d = grad + weight_decay * w;
  buf = buf.defined() ? momentum * buf + d : d.clone();
  return w - lr * (d + momentum * buf);
}

}  // namespace

TEST_CASE("sade_aggregation matches the reference of SADE's test-time training",
          "[sade_aggregation][golden]") {
  for (const auto& g : tailor::test::load_golden("sade_aggregation"))
    for (const at::ScalarType dtype : {at::kFloat, at::kDouble}) {
      DYNAMIC_SECTION(g.name << " " << dtype) {
        const auto tol = tailor::test::tolerance(dtype);
        const at::Tensor views_1 = g.tensor("views_1", dtype);  // [steps, 3, N, C]
        const at::Tensor views_2 = g.tensor("views_2", dtype);
        const int64_t steps = g.options.at("steps").get<int64_t>();
        REQUIRE(views_1.size(0) == steps);
        const int64_t experts = views_1.size(1), c = views_1.size(3);
        const double lr = g.scalar("lr"), momentum = g.scalar("momentum"),
                     weight_decay = g.scalar("weight_decay");
        SadeAggregationLoss loss = make_loss(c);

        at::Tensor w = g.tensor("w_init", dtype), buf;
        for (int64_t step = 0; step < steps; ++step) {
          INFO("step " << step);
          const at::Tensor x = w.detach().clone().set_requires_grad(true);
          const at::Tensor a = at::softmax(x, 0).view({experts, 1, 1});
          const at::Tensor z1 = (a * views_1[step]).sum(0);
          const at::Tensor z2 = (a * views_2[step]).sum(0);
          const at::Tensor value = loss.forward(unlabeled(at::cat({z1, z2}, 0)));
          REQUIRE(value.dim() == 0);
          CHECK(value.scalar_type() == dtype);
          value.backward();
          CHECK(value.item<double>() ==
                Approx(g.scalar("loss_" + std::to_string(step))).epsilon(tol.value));
          const at::Tensor grad = x.grad();
          REQUIRE(grad.defined());
          CHECK(at::allclose(grad, g.tensor("grad_" + std::to_string(step), dtype), tol.rtol,
                             tol.atol));

          w = sgd_nesterov_step(w, grad, buf, lr, momentum, weight_decay);
          CHECK(at::allclose(w, g.tensor("w_" + std::to_string(step), dtype), tol.rtol, tol.atol));
          CHECK(at::allclose(at::softmax(w, 0), g.tensor("a_" + std::to_string(step), dtype),
                             tol.rtol, tol.atol));
        }
      }
    }
}

TEST_CASE("sade_aggregation is minus the mean cosine of the two views' softmax",
          "[sade_aggregation]") {
  SadeAggregationLoss loss = make_loss(3);
  SECTION("by hand") {
    // View 1: uniform, and the probabilities (0.5, 0.25, 0.25); view 2: their partners.
    const double l2 = std::log(2.0);
    const at::Tensor z = at::tensor({0.0, 0.0, 0.0, l2, 0.0, 0.0,  //
                                     l2, 0.0, 0.0, 0.0, l2, 0.0},
                                    at::kDouble)
                             .view({4, 3});
    // cos(u, (.5, .25, .25)) = 1 / sqrt(3 * .375); cos((.5, .25, .25), (.25, .5, .25)) =
    // .3125 / .375.
    const double expected = -0.5 * (1.0 / std::sqrt(3.0 * 0.375) + 0.3125 / 0.375);
    CHECK(loss.forward(unlabeled(z)).item<double>() == Approx(expected).epsilon(1e-12));
  }
  SECTION("agreeing views reach the minimum -1, with no gradient") {
    const at::Tensor half = at::randn({5, 3}, at::kDouble);
    const at::Tensor z = at::cat({half, half}, 0).set_requires_grad(true);
    const at::Tensor value = loss.forward(unlabeled(z));
    CHECK(value.item<double>() == Approx(-1.0).epsilon(1e-12));
    value.backward();
    CHECK(z.grad().abs().max().item<double>() < 1e-12);
  }
  SECTION("the rows pair as view 1 [0, N) with view 2 [N, 2N)") {
    const at::Tensor half = at::randn({4, 3}, at::kDouble) * 3.0;
    // Swapping the views is the same loss; pairing the rows otherwise is not.
    const at::Tensor other = at::randn({4, 3}, at::kDouble) * 3.0;
    const double value = loss.forward(unlabeled(at::cat({half, other}))).item<double>();
    CHECK(loss.forward(unlabeled(at::cat({other, half}))).item<double>() ==
          Approx(value).epsilon(1e-12));
    const at::Tensor p1 = at::softmax(half, 1), p2 = at::softmax(other, 1);
    const double by_hand =
        -((p1 * p2).sum(1) / (p1.norm(2, 1) * p2.norm(2, 1))).mean().item<double>();
    CHECK(value == Approx(by_hand).epsilon(1e-12));
    const at::Tensor interleaved = at::stack({half, other}, 1).view({8, 3});
    CHECK(loss.forward(unlabeled(interleaved)).item<double>() != Approx(value).epsilon(1e-6));
  }
}

TEST_CASE("sade_aggregation never reads the targets", "[sade_aggregation]") {
  SadeAggregationLoss loss = make_loss(4);
  STATIC_REQUIRE(tailor::needs::kUnlabeled == 0x100u);
  CHECK(loss.needs() == tailor::needs::kUnlabeled);
  const at::Tensor z = at::randn({6, 4});
  tailor::LossInput in = unlabeled(z);
  const at::Tensor reference = loss.forward(in);
  // Garbage labels, out of range and negative; a wrong shape and dtype; no targets at all.
  for (const at::Tensor& targets :
       {at::tensor({12345, -7, 3, 99, -1, 1000000}, at::kLong), at::randn({2, 5}), at::Tensor()}) {
    in.targets = targets;
    CHECK(at::equal(loss.forward(in), reference));
  }
}

TEST_CASE("sade_aggregation refuses a batch without two views", "[sade_aggregation]") {
  SadeAggregationLoss loss = make_loss(3);
  CHECK_THROWS_AS(loss.forward(unlabeled(at::randn({5, 3}))), tailor::Error);
  CHECK_THROWS_WITH(loss.forward(unlabeled(at::randn({5, 3}))),
                    Catch::Contains("sade_aggregation") && Catch::Contains("5 rows") &&
                        Catch::Contains("views = 2"));
  CHECK_THROWS_WITH(loss.forward(unlabeled(at::randn({0, 3}))), Catch::Contains("views = 2"));
  CHECK_THROWS_WITH(loss.forward(unlabeled(at::randn({4, 5}))),
                    "sade_aggregation: logits must be [2N, 3], got [4, 5]");
  tailor::LossInput none;
  CHECK_THROWS_WITH(loss.forward(none), Catch::Contains("logits must be [2N, 3]"));
}

TEST_CASE("sade_aggregation README parameter table matches the options schema",
          "[sade_aggregation]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<SadeAggregationLoss::Options>());
}
