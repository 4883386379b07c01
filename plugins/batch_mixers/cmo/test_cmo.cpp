// Tests of the cmo batch mix: golden boxes, batches and losses of the official CutMix step,
// draws, the epoch window, input checks, README table.
#include "cmo.hpp"

#include "../../../tests/support/golden.hpp"

#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <vector>

using tailor::plugins::Cmo;
using tailor::plugins::cutmix;
using tailor::plugins::cutmix_box;

namespace {

tailor::BatchMixContext mix_context(int64_t total_epochs) {
  tailor::BatchMixContext context;
  context.num_classes = 3;
  context.class_counts = {60, 30, 10};
  context.total_epochs = total_epochs;
  return context;
}

// A batch of 4 images 3 x 16 x 16: zeros, and a second batch of ones, so that the mixed batch
// is 1 exactly inside the box.
tailor::MixInput batch(uint64_t seed, int64_t epoch, int64_t total_epochs) {
  tailor::MixInput in;
  in.inputs = at::zeros({4, 3, 16, 16});
  in.targets = at::tensor(std::vector<int64_t>{0, 0, 1, 0});
  in.inputs_b = at::ones({4, 3, 16, 16});
  in.targets_b = at::tensor(std::vector<int64_t>{2, 1, 2, 0});
  in.seed = seed;
  in.clock.epoch = epoch;
  in.clock.total_epochs = total_epochs;
  return in;
}

Cmo::Options always() {
  Cmo::Options o;
  o.prob = 1.0;
  return o;
}

}  // namespace

TEST_CASE("cmo's box and mixed batch match the official rand_bbox and paste", "[cmo][golden]") {
  for (const auto& g : tailor::test::load_golden("cmo_cutmix"))
    for (const at::ScalarType dtype : {at::kFloat, at::kDouble}) {
      DYNAMIC_SECTION(g.name << " " << dtype) {
        const at::Tensor a = g.tensor("inputs_a", dtype), b = g.tensor("inputs_b", dtype);
        const at::Tensor a_before = a.clone();
        const double lambda = g.scalar("lambda");
        const at::Tensor draws = g.tensor("draws"), golden_box = g.tensor("box");
        const int64_t cx = draws[0].item<int64_t>(), cy = draws[1].item<int64_t>();
        const auto box = cutmix_box(a.size(2), a.size(3), lambda, cx, cy);
        CHECK(std::vector<int64_t>{box.x1, box.y1, box.x2, box.y2} ==
              std::vector<int64_t>(golden_box.data_ptr<int64_t>(),
                                   golden_box.data_ptr<int64_t>() + 4));
        const tailor::MixOutput out = cutmix(a, b, g.tensor("targets_b"), lambda, cx, cy);
        CHECK(at::equal(out.inputs, g.tensor("mixed", dtype)));  // values are only copied
        CHECK(at::equal(a, a_before));
        CHECK(at::equal(out.targets_b, g.tensor("targets_b")));
        REQUIRE(out.mix_weight.sizes() == at::IntArrayRef{a.size(0)});
        CHECK(out.mix_weight.scalar_type() == dtype);
        // 1 - area / (H W) is exact in float64 (and in float32 for these sizes).
        CHECK(at::equal(out.mix_weight, at::full({a.size(0)}, g.scalar("lambda_adjusted"),
                                                 out.mix_weight.options())));
      }
    }
}

// The official criterion lam CE(z + shift, y_a) + (1 - lam) CE(z + shift, y_b) of the mixed
// batch through tailor::paired_targets_loss with a cross-entropy term written here (the ce and
// balanced_softmax plugins check their own mixed forms against the same file).
TEST_CASE("cmo's paired targets give the official loss through paired_targets_loss",
          "[cmo][golden]") {
  for (const auto& g : tailor::test::load_golden("cmo_cutmix"))
    for (const at::ScalarType dtype : {at::kFloat, at::kDouble}) {
      DYNAMIC_SECTION(g.name << " " << dtype) {
        const auto counts = g.raw.at("context").at("class_counts").get<std::vector<int64_t>>();
        at::Tensor shift = at::zeros({static_cast<int64_t>(counts.size())}, dtype);
        if (g.options.at("loss") == "balanced_softmax")
          shift = at::tensor(counts, at::kDouble).to(dtype).log();
        const at::Tensor draws = g.tensor("draws");
        const tailor::MixOutput mixed =
            cutmix(g.tensor("inputs_a", dtype), g.tensor("inputs_b", dtype), g.tensor("targets_b"),
                   g.scalar("lambda"), draws[0].item<int64_t>(), draws[1].item<int64_t>());
        at::Tensor logits = g.tensor("logits", dtype).set_requires_grad(true);
        tailor::LossInput in;
        in.logits = logits;
        in.targets = g.tensor("targets_a");
        in.targets_b = mixed.targets_b;
        in.mix_weight = mixed.mix_weight;
        at::Tensor value =
            tailor::paired_targets_loss(in, [&](const at::Tensor& t, const at::Tensor& m) {
              const at::Tensor nll =
                  -at::log_softmax(in.logits + shift, 1).gather(1, t.unsqueeze(1)).squeeze(1);
              return (m.defined() ? nll * m : nll).mean();
            });
        value.backward();
        const auto tol = tailor::test::tolerance(dtype);
        CHECK(value.item<double>() == Approx(g.scalar("loss")).epsilon(tol.value));
        CHECK(at::allclose(logits.grad(), g.tensor("grad", dtype), tol.rtol, tol.atol));
      }
    }
}

TEST_CASE("cmo's box follows the official rounding", "[cmo]") {
  // cut = int(8 sqrt(0.5)) = 5, an odd cut: the box is 2 (5 // 2) = 4 wide.
  const auto odd = cutmix_box(8, 8, 0.5, 4, 4);
  CHECK(odd.x2 - odd.x1 == 4);
  CHECK(odd.y2 - odd.y1 == 4);
  // lambda = 1: no box; lambda = 0: the whole image from any centre but the origin's
  // neighbourhood (the box is [c - 4, c + 4] clipped).
  CHECK(cutmix_box(8, 8, 1.0, 3, 3).area() == 0);
  CHECK(cutmix_box(8, 8, 0.0, 4, 4).area() == 64);
  CHECK(cutmix_box(8, 8, 0.0, 0, 0).area() == 16);
  CHECK_THROWS_WITH(cutmix_box(8, 8, 0.5, 8, 0), Catch::Contains("outside an image of 8 x 8"));
  CHECK_THROWS_WITH(cutmix_box(8, 8, 1.5, 0, 0), Catch::Contains("lambda must be in [0, 1]"));
}

TEST_CASE("cmo takes the first N samples of a longer second batch", "[cmo]") {
  const at::Tensor a = at::zeros({2, 1, 4, 4});
  const at::Tensor b = at::arange(3 * 16, at::kFloat).view({3, 1, 4, 4});
  const tailor::MixOutput out = cutmix(a, b, at::tensor(std::vector<int64_t>{4, 5, 6}), 0.0, 2, 2);
  CHECK(at::equal(out.inputs, b.narrow(0, 0, 2)));
  CHECK(at::equal(out.targets_b, at::tensor(std::vector<int64_t>{4, 5})));
  CHECK(out.mix_weight[0].item<double>() == 0.0);
}

TEST_CASE("cmo draws from the step's seed only", "[cmo]") {
  Cmo mixer(always(), mix_context(10));
  CHECK(mixer.wants_second_batch());
  const tailor::MixOutput first = mixer.mix(batch(42, 5, 10));
  const tailor::MixOutput again = mixer.mix(batch(42, 5, 10));
  REQUIRE(first.inputs.defined());
  CHECK(at::equal(first.inputs, again.inputs));
  CHECK(at::equal(first.mix_weight, again.mix_weight));
  CHECK(at::equal(first.targets_b, batch(42, 5, 10).targets_b));
  // Another seed, another lambda and box.
  const tailor::MixOutput other = mixer.mix(batch(43, 5, 10));
  REQUIRE(other.inputs.defined());
  CHECK_FALSE(at::equal(first.inputs, other.inputs));
  // The label mass is the share of pixels kept, for every draw.
  for (uint64_t seed = 0; seed < 50; ++seed) {
    const tailor::MixOutput out = mixer.mix(batch(seed, 5, 10));
    REQUIRE(out.inputs.defined());
    const double pasted = out.inputs.sum().item<double>() / static_cast<double>(out.inputs.numel());
    CHECK(out.mix_weight.min().item<double>() == out.mix_weight.max().item<double>());
    CHECK(out.mix_weight[0].item<double>() == Approx(1.0 - pasted).margin(1e-12));
  }
}

TEST_CASE("cmo mixes a batch with probability prob", "[cmo]") {
  Cmo::Options o;
  o.prob = 0.0;
  Cmo never(o, mix_context(10));
  for (uint64_t seed = 0; seed < 200; ++seed)
    CHECK_FALSE(never.mix(batch(seed, 5, 10)).inputs.defined());
  Cmo always_mix(always(), mix_context(10));
  for (uint64_t seed = 0; seed < 200; ++seed)
    CHECK(always_mix.mix(batch(seed, 5, 10)).inputs.defined());
  Cmo half(Cmo::Options{}, mix_context(10));  // the official 0.5
  int mixed = 0;
  for (uint64_t seed = 0; seed < 1000; ++seed)
    mixed += half.mix(batch(seed, 5, 10)).inputs.defined();
  CHECK(mixed == Approx(500).margin(60));
}

TEST_CASE("cmo mixes only in the official epoch window", "[cmo]") {
  // start_data_aug = end_data_aug = 3 in a stage of 10 epochs: 3 < e < 7.
  Cmo mixer(always(), mix_context(10));
  std::vector<int64_t> mixed_epochs;
  for (int64_t e = 0; e < 10; ++e)
    if (mixer.mix(batch(7, e, 10)).inputs.defined()) mixed_epochs.push_back(e);
  CHECK(mixed_epochs == std::vector<int64_t>{4, 5, 6});
  // The official CIFAR recipe: off in epochs 0-3 and in the last 3 of 200.
  CHECK_FALSE(mixer.in_window(3, 200));
  CHECK(mixer.in_window(4, 200));
  CHECK(mixer.in_window(196, 200));
  CHECK_FALSE(mixer.in_window(197, 200));
  // start_epoch = -1, end_epochs = 0: every epoch.
  auto o = tailor::testing::options<Cmo::Options>("prob = 1.0\nstart_epoch = -1\nend_epochs = 0",
                                                  "batch_mix");
  Cmo every(o, mix_context(3));
  for (int64_t e = 0; e < 3; ++e) CHECK(every.mix(batch(7, e, 3)).inputs.defined());
}

TEST_CASE("cmo refuses inputs that are not image batches", "[cmo]") {
  Cmo mixer(always(), mix_context(10));
  tailor::MixInput in = batch(1, 5, 10);
  in.inputs = at::zeros({4, 48});
  CHECK_THROWS_WITH(mixer.mix(in), Catch::Contains("cmo: inputs must be images [N, C, H, W]") &&
                                       Catch::Contains("got shape [4, 48]"));
  in = batch(1, 0, 10);  // outside the window the shape is checked too
  in.inputs = at::zeros({4, 3, 16});
  CHECK_THROWS_WITH(mixer.mix(in), Catch::Contains("cmo: inputs must be images [N, C, H, W]"));
  in = batch(1, 5, 10);
  in.inputs_b = at::ones({4, 3, 8, 8});
  CHECK_THROWS_WITH(mixer.mix(in), Catch::Contains("does not match the batch"));
  in = batch(1, 5, 10);
  in.inputs_b = at::Tensor();
  in.targets_b = at::Tensor();
  CHECK_THROWS_WITH(mixer.mix(in), Catch::Contains("no second batch"));
}

TEST_CASE("cmo rejects bad options with clear messages", "[cmo]") {
  using tailor::testing::options;
  CHECK_THROWS_WITH(options<Cmo::Options>("prob = 1.5", "batch_mix"),
                    "exp.toml:1:8: [batch_mix] prob must be [0, 1], got 1.5");
  CHECK_THROWS_WITH(options<Cmo::Options>("beta = 0.0", "batch_mix"),
                    "exp.toml:1:8: [batch_mix] beta must be > 0, got 0");
  CHECK_THROWS_WITH(options<Cmo::Options>("start_epoch = -2", "batch_mix"),
                    Catch::Contains("start_epoch must be >= -1, got -2"));
}

TEST_CASE("cmo README parameter table matches the options schema", "[cmo]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README, tailor::schema_of<Cmo::Options>());
}
