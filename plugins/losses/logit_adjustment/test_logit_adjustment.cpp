// Tests of the logit_adjustment loss: golden values, post-hoc shift, option checks, README.
#include "logit_adjustment.hpp"

#include "../../../tests/support/class_vectors.hpp"
#include "../../../tests/support/golden.hpp"
#include "../../../tests/support/mixed_targets.hpp"

#include <tailor/constant.hpp>
#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <utility>
#include <vector>

using tailor::plugins::LogitAdjustment;
using tailor::testing::loss_context;
using tailor::testing::options;

namespace {

// forward() as it was before mixed batches (SDK 1.3), op for op, with the offsets
// log(pi^tau + 1e-12) computed as the constructor computes them.
at::Tensor logit_adjustment_before_mixing(const at::Tensor& z, const at::Tensor& targets,
                                          const std::vector<int64_t>& counts,
                                          const LogitAdjustment::Options& o) {
  double total = 0.0;
  for (int64_t n : counts) total += static_cast<double>(n);
  std::vector<double> offsets;
  for (int64_t n : counts)
    offsets.push_back(std::log(std::pow(static_cast<double>(n) / total, o.tau) + o.prior_epsilon));
  const tailor::Constant offset_constant(offsets, z.device());
  const at::Tensor trained =
      o.mode == LogitAdjustment::Options::Mode::kLoss ? z + offset_constant.like(z) : z;
  const at::Tensor nll = -at::log_softmax(trained, 1).gather(1, targets.unsqueeze(1)).squeeze(1);
  return o.reduction == LogitAdjustment::Options::Reduction::kSum ? nll.sum() : nll.mean();
}

}  // namespace

TEST_CASE("logit_adjustment matches the reference of the official code",
          "[logit_adjustment][golden]") {
  for (const auto& g : tailor::test::load_golden("logit_adjustment"))
    for (const at::ScalarType dtype : {at::kFloat, at::kDouble}) {
      DYNAMIC_SECTION(g.name << " " << dtype) {
        LogitAdjustment::Options o;
        o.mode = o.kModes.value(g.options.value("mode", o.kModes.name(o.mode)));
        o.tau = g.options.value("tau", o.tau);
        o.reduction =
            o.kReductions.value(g.options.value("reduction", o.kReductions.name(o.reduction)));
        at::Tensor logits = g.tensor("logits", dtype).set_requires_grad(true);
        LogitAdjustment loss(
            o, loss_context(g.raw.at("context").at("class_counts").get<std::vector<int64_t>>()));
        tailor::LossInput in;
        in.logits = logits;
        in.targets = g.tensor("targets");
        at::Tensor value = loss.forward(in);
        value.backward();
        const auto tol = tailor::test::tolerance(dtype);
        CHECK(value.item<double>() == Approx(g.scalar("loss")).epsilon(tol.value));
        CHECK(at::allclose(logits.grad(), g.tensor("grad", dtype), tol.rtol, tol.atol));
        CHECK(at::allclose(loss.adjust_logits(logits.detach()), g.tensor("adjusted", dtype),
                           tol.rtol, tol.atol));
      }
    }
}

TEST_CASE("logit_adjustment post-hoc identity and shift", "[logit_adjustment]") {
  const at::Tensor z = at::randn({4, 3});
  const at::Tensor y = at::tensor(std::vector<int64_t>{0, 1, 2, 0});
  LogitAdjustment::Options o;

  SECTION("loss mode predicts with the raw logits") {
    LogitAdjustment loss(o, loss_context({90, 9, 1}));
    CHECK(at::equal(loss.adjust_logits(z), z));
  }
  SECTION("post-hoc with tau 0 is the identity") {
    o.mode = LogitAdjustment::Options::Mode::kPosthoc;
    o.tau = 0.0;
    LogitAdjustment loss(o, loss_context({90, 9, 1}));
    CHECK(at::allclose(loss.adjust_logits(z), z, 0.0, 1e-6));
  }
  SECTION("post-hoc trains with plain cross-entropy") {
    o.mode = LogitAdjustment::Options::Mode::kPosthoc;
    LogitAdjustment loss(o, loss_context({90, 9, 1}));
    CHECK(loss.forward({z, y}).item<double>() ==
          Approx(at::cross_entropy_loss(z, y).item<double>()).epsilon(1e-6));
  }
  SECTION("post-hoc subtracts tau log pi") {
    // pi = (0.9, 0.09, 0.01), tau = 1: z - log pi.
    o.mode = LogitAdjustment::Options::Mode::kPosthoc;
    LogitAdjustment loss(o, loss_context({90, 9, 1}));
    // (z - log pi) - z in float carries the rounding of z - log pi: up to 2^-21 for |.| < 8.
    const at::Tensor shift = loss.adjust_logits(z) - z;
    for (int64_t i = 0; i < z.size(0); ++i) {
      CHECK(shift[i][0].item<double>() == Approx(-std::log(0.9)).epsilon(0).margin(1e-6));
      CHECK(shift[i][1].item<double>() == Approx(-std::log(0.09)).epsilon(0).margin(1e-6));
      CHECK(shift[i][2].item<double>() == Approx(-std::log(0.01)).epsilon(0).margin(1e-6));
    }
    // A head-class prediction by a margin smaller than log(0.9 / 0.01) flips to the tail.
    const at::Tensor logits = at::tensor(std::vector<float>{2.0f, 0.0f, 0.0f}).view({1, 3});
    CHECK(loss.adjust_logits(logits).argmax(1).item<int64_t>() == 2);
  }
  SECTION("post-hoc with uniform counts shifts every logit equally") {
    o.mode = LogitAdjustment::Options::Mode::kPosthoc;
    o.tau = 1.5;
    LogitAdjustment loss(o, loss_context({5, 5, 5}));
    const at::Tensor shift = loss.adjust_logits(z) - z;
    CHECK(at::allclose(shift, at::full_like(shift, -1.5 * std::log(1.0 / 3.0)), 1e-5, 1e-6));
    CHECK(at::equal(loss.adjust_logits(z).argmax(1), z.argmax(1)));
  }
}

TEST_CASE("logit_adjustment reports its offsets as a class vector", "[logit_adjustment]") {
  LogitAdjustment::Options o;
  o.tau = 1.0;
  const auto v = LogitAdjustment(o, loss_context({90, 9, 1})).class_vectors();
  CHECK(tailor::test::vector_names(v) == std::vector<std::string>{"offsets"});
  const auto off = tailor::test::vector_values(v, "offsets", 3);
  CHECK(off[0] == Approx(std::log(0.9)).epsilon(1e-6));
  CHECK(off[1] == Approx(std::log(0.09)).epsilon(1e-6));
  CHECK(off[2] == Approx(std::log(0.01)).epsilon(1e-6));
}

TEST_CASE("logit_adjustment handles empty classes through prior_epsilon", "[logit_adjustment]") {
  LogitAdjustment::Options o;
  LogitAdjustment loss(o, loss_context({10, 0}));
  CHECK(loss.offsets()[1].item<double>() == Approx(std::log(1e-12)));
  o.prior_epsilon = 0.0;
  CHECK_THROWS_WITH(LogitAdjustment(o, loss_context({10, 0})),
                    Catch::Contains("class 1 has 0 training samples"));
}

TEST_CASE("logit_adjustment rejects bad options with clear messages", "[logit_adjustment]") {
  CHECK_THROWS_WITH(options<LogitAdjustment::Options>("tau = -1.0"),
                    "exp.toml:1:7: [loss] tau must be >= 0, got -1");
  CHECK_THROWS_WITH(options<LogitAdjustment::Options>("mode = \"post-hoc\""),
                    "exp.toml:1:8: [loss] mode must be one of: loss, posthoc, got \"post-hoc\"");
}

// An unmixed batch runs the operations of forward() before mixed batches, bit for bit; a
// mixed one with mix weight 1 is the unmixed loss, with a constant weight lam the official
// lam L(y_a) + (1 - lam) L(y_b).
TEST_CASE("logit_adjustment on unmixed and mixed batches", "[logit_adjustment][mixed]") {
  using Options = LogitAdjustment::Options;
  const std::vector<int64_t> counts = {500, 200, 80, 30, 12, 5};
  at::manual_seed(7);
  const at::Tensor logits = at::randn({6, 6}, at::kDouble) * 2.0;
  const at::Tensor y = at::tensor(std::vector<int64_t>{0, 1, 2, 3, 4, 5});
  const at::Tensor y_b = at::tensor(std::vector<int64_t>{5, 5, 0, 2, 3, 2});
  for (const at::ScalarType dtype : {at::kFloat, at::kDouble})
    for (const Options::Mode mode : {Options::Mode::kLoss, Options::Mode::kPosthoc})
      for (const Options::Reduction reduction :
           {Options::Reduction::kMean, Options::Reduction::kSum}) {
        DYNAMIC_SECTION(dtype << " " << Options::kModes.name(mode) << " "
                              << Options::kReductions.name(reduction)) {
          Options o;
          o.mode = mode;
          o.tau = 1.5;
          o.reduction = reduction;
          LogitAdjustment loss(o, loss_context(counts));
          const at::Tensor z = logits.to(dtype);
          tailor::test::check_mixed_targets(
              loss, z, y, y_b, [&](const at::Tensor& x, const at::Tensor& t) {
                return logit_adjustment_before_mixing(x, t, counts, o);
              });
        }
      }
}

TEST_CASE("logit_adjustment README parameter table matches the options schema",
          "[logit_adjustment]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<LogitAdjustment::Options>());
}
