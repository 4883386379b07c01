// Tests of the mixup batch mix: golden batches and losses of MiSLAS's mixup_data and
// mixup_criterion, the Beta and permutation draws, input checks, README table.
#include "mixup.hpp"

#include "../common/draws.hpp"

#include "../../../tests/support/golden.hpp"

#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <vector>

using tailor::plugins::Mixup;

namespace {

tailor::BatchMixContext mix_context() {
  tailor::BatchMixContext context;
  context.num_classes = 3;
  context.class_counts = {60, 30, 10};
  context.total_epochs = 200;
  return context;
}

tailor::MixInput batch(uint64_t seed) {
  tailor::MixInput in;
  in.inputs = at::arange(8 * 5, at::kDouble).view({8, 5});
  in.targets = at::tensor(std::vector<int64_t>{0, 1, 2, 0, 1, 2, 0, 0});
  in.seed = seed;
  in.clock.epoch = 3;
  in.clock.total_epochs = 200;
  return in;
}

std::vector<int64_t> to_vector(const at::Tensor& t) {
  const at::Tensor c = t.contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

}  // namespace

TEST_CASE("mixup matches MiSLAS's mixup_data and mixup_criterion", "[mixup][golden]") {
  for (const auto& g : tailor::test::load_golden("mixup"))
    for (const at::ScalarType dtype : {at::kFloat, at::kDouble}) {
      DYNAMIC_SECTION(g.name << " " << dtype) {
        const double lambda = g.scalar("lambda");
        const tailor::MixOutput out =
            tailor::plugins::mixup(g.tensor("inputs", dtype), g.tensor("targets_a"), lambda,
                                   to_vector(g.tensor("permutation")));
        const auto tol = tailor::test::tolerance(dtype);
        CHECK(at::allclose(out.inputs, g.tensor("mixed", dtype), tol.rtol, tol.atol));
        CHECK(at::equal(out.targets_b, g.tensor("targets_b")));
        CHECK(out.mix_weight.scalar_type() == dtype);
        CHECK(at::equal(out.mix_weight,
                        at::full({out.inputs.size(0)}, lambda, out.mix_weight.options())));

        // The criterion through paired_targets_loss with a cross-entropy term written here
        // (the ce plugin checks its own mixed form against the same file).
        at::Tensor logits = g.tensor("logits", dtype).set_requires_grad(true);
        tailor::LossInput in;
        in.logits = logits;
        in.targets = g.tensor("targets_a");
        in.targets_b = out.targets_b;
        in.mix_weight = out.mix_weight;
        at::Tensor value =
            tailor::paired_targets_loss(in, [&](const at::Tensor& t, const at::Tensor& m) {
              const at::Tensor nll =
                  -at::log_softmax(in.logits, 1).gather(1, t.unsqueeze(1)).squeeze(1);
              return (m.defined() ? nll * m : nll).mean();
            });
        value.backward();
        CHECK(value.item<double>() == Approx(g.scalar("loss")).epsilon(tol.value));
        CHECK(at::allclose(logits.grad(), g.tensor("grad", dtype), tol.rtol, tol.atol));
      }
    }
}

TEST_CASE("mixup draws lambda and the permutation from the step's seed only", "[mixup]") {
  Mixup mixer(Mixup::Options{}, mix_context());
  CHECK_FALSE(mixer.wants_second_batch());
  const tailor::MixOutput first = mixer.mix(batch(11));
  const tailor::MixOutput again = mixer.mix(batch(11));
  REQUIRE(first.inputs.defined());
  CHECK(at::equal(first.inputs, again.inputs));
  CHECK(at::equal(first.targets_b, again.targets_b));
  CHECK(at::equal(first.mix_weight, again.mix_weight));
  const tailor::MixOutput other = mixer.mix(batch(12));
  REQUIRE(other.inputs.defined());
  CHECK_FALSE(at::equal(first.inputs, other.inputs));
  CHECK(first.mix_weight[0].item<double>() != other.mix_weight[0].item<double>());
  // Each output row is lambda x_i + (1 - lambda) x_perm(i) for a permutation perm, which the
  // targets follow: recover perm from the first column of the rows x_j = (5 j, ..., 5 j + 4).
  const tailor::MixInput in = batch(11);
  const double lambda = first.mix_weight[0].item<double>();
  std::vector<int64_t> perm;
  for (int64_t i = 0; i < 8; ++i) {
    const double mixed = first.inputs[i][0].item<double>();
    const double partner = (mixed - lambda * 5.0 * static_cast<double>(i)) / (1.0 - lambda) / 5.0;
    perm.push_back(static_cast<int64_t>(std::lround(partner)));
    CHECK(partner == Approx(static_cast<double>(perm.back())).margin(1e-3));
    CHECK(first.targets_b[i].item<int64_t>() == in.targets[perm.back()].item<int64_t>());
  }
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7});
}

TEST_CASE("mixup with alpha 0 never mixes", "[mixup]") {
  Mixup::Options o;
  o.alpha = 0.0;
  Mixup mixer(o, mix_context());
  for (uint64_t seed = 0; seed < 100; ++seed) CHECK_FALSE(mixer.mix(batch(seed)).inputs.defined());
}

TEST_CASE("mixup mixes inputs of any rank >= 1 and refuses scalars", "[mixup]") {
  Mixup mixer(Mixup::Options{}, mix_context());
  tailor::MixInput in = batch(3);
  in.inputs = at::arange(8, at::kFloat);  // [N]
  CHECK(mixer.mix(in).inputs.sizes() == at::IntArrayRef{8});
  in.inputs = at::zeros({8, 2, 3, 4, 5});  // [N, C, T, H, W]
  CHECK(mixer.mix(in).inputs.sizes() == in.inputs.sizes());
  in.inputs = at::scalar_tensor(0.0);
  CHECK_THROWS_WITH(mixer.mix(in), Catch::Contains("mixup: inputs must be a batch [N, ...]"));
  CHECK_THROWS_WITH(
      tailor::plugins::mixup(at::zeros({3, 2}), at::zeros({3}, at::kLong), 0.5, {0, 1, 1}),
      Catch::Contains("not a permutation"));
}

TEST_CASE("the Beta draws have the Beta(a, a) moments", "[mixup][draws]") {
  // Mean 1/2, variance 1 / (4 (2a + 1)); 20000 draws: the standard error of the mean is
  // below 0.004, that of the variance below 3 %.
  for (const double a : {0.2, 1.0, 2.0}) {
    DYNAMIC_SECTION("a = " << a) {
      const int n = 20000;
      double sum = 0.0, sum_sq = 0.0, lo = 1.0, hi = 0.0;
      for (int i = 0; i < n; ++i) {
        tailor::SampleRng rng(static_cast<uint64_t>(i), 0);
        const double x = tailor::batch_mixers::beta_draw(rng, a, a);
        sum += x;
        sum_sq += x * x;
        lo = std::min(lo, x);
        hi = std::max(hi, x);
      }
      const double mean = sum / n, var = sum_sq / n - mean * mean;
      CHECK(lo >= 0.0);
      CHECK(hi <= 1.0);
      CHECK(mean == Approx(0.5).margin(0.015));
      CHECK(var == Approx(1.0 / (4.0 * (2.0 * a + 1.0))).epsilon(0.06));
    }
  }
}

TEST_CASE("the permutation draw is uniform", "[mixup][draws]") {
  // The first position of a permutation of 4 lands on each value a quarter of the time.
  std::vector<int> first(4, 0);
  for (uint64_t seed = 0; seed < 8000; ++seed) {
    tailor::SampleRng rng(seed, 0);
    const auto p = tailor::batch_mixers::permutation(rng, 4);
    std::vector<int64_t> sorted = p;
    std::sort(sorted.begin(), sorted.end());
    REQUIRE(sorted == std::vector<int64_t>{0, 1, 2, 3});
    ++first[static_cast<size_t>(p[0])];
  }
  for (int count : first) CHECK(count == Approx(2000).margin(150));
}

TEST_CASE("mixup rejects bad options with clear messages", "[mixup]") {
  CHECK_THROWS_WITH(tailor::testing::options<Mixup::Options>("alpha = -1.0", "batch_mix"),
                    "exp.toml:1:9: [batch_mix] alpha must be >= 0, got -1");
}

TEST_CASE("mixup README parameter table matches the options schema", "[mixup]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README, tailor::schema_of<Mixup::Options>());
}
