// Tests of blend_mix with tailor's plugin test kit: options as the host reads them, the mixed
// values and paired targets, the per-batch decision and its probability, README table.
#include "blend_mix.hpp"

#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

#include <vector>

using blend_mix::BlendMix;
using tailor::testing::options;

namespace {

tailor::BatchMixContext context() {
  tailor::BatchMixContext context;
  context.num_classes = 3;
  context.class_counts = {60, 30, 10};
  context.total_epochs = 10;
  return context;
}

// Three samples of two features: x_i = (i, 10 i), targets 0, 1, 2.
tailor::MixInput batch(uint64_t seed) {
  tailor::MixInput in;
  in.inputs = at::tensor({0.0, 0.0, 1.0, 10.0, 2.0, 20.0}, at::kFloat).view({3, 2});
  in.targets = at::tensor(std::vector<int64_t>{0, 1, 2});
  in.seed = seed;
  return in;
}

BlendMix mixer(double prob, double weight = 0.8) {
  BlendMix::Options o;
  o.prob = prob;
  o.weight = weight;
  return BlendMix(o, context());
}

}  // namespace

TEST_CASE("blend_mix reads its options as the host does", "[blend_mix]") {
  const auto defaults = options<BlendMix::Options>("", "batch_mix");
  CHECK(defaults.prob == 0.5);
  CHECK(defaults.weight == 0.8);
  const auto set = options<BlendMix::Options>("prob = 1.0\nweight = 1.0", "batch_mix");
  CHECK(set.prob == 1.0);
  CHECK(set.weight == 1.0);
  CHECK_THROWS_WITH(options<BlendMix::Options>("prob = 1.5", "batch_mix"),
                    Catch::Contains("[batch_mix] prob must be [0, 1], got 1.5"));
  CHECK_THROWS_WITH(options<BlendMix::Options>("weight = 0.0", "batch_mix"),
                    Catch::Contains("[batch_mix] weight must be (0, 1], got 0"));
}

TEST_CASE("blend_mix blends every sample with its neighbour", "[blend_mix]") {
  BlendMix m = mixer(1.0, 0.75);
  CHECK_FALSE(m.wants_second_batch());
  const tailor::MixOutput out = m.mix(batch(5));
  REQUIRE(out.inputs.defined());
  // Sample i with sample i - 1 (sample 0 with sample 2): 0.75 x_i + 0.25 x_{i-1}.
  const at::Tensor expected =
      at::tensor({0.5, 5.0, 0.75, 7.5, 1.75, 17.5}, at::kFloat).view({3, 2});
  CHECK(at::equal(out.inputs, expected));  // exact: 0.75 and 0.25 are binary fractions
  CHECK(at::equal(out.targets_b, at::tensor(std::vector<int64_t>{2, 0, 1})));
  CHECK(out.mix_weight.scalar_type() == at::kFloat);
  CHECK(at::equal(out.mix_weight, at::full({3}, 0.75, at::kFloat)));
  // The mix weight follows the inputs' dtype.
  tailor::MixInput in = batch(5);
  in.inputs = in.inputs.to(at::kDouble);
  CHECK(m.mix(in).mix_weight.scalar_type() == at::kDouble);
}

TEST_CASE("blend_mix decides from the step's seed only", "[blend_mix]") {
  BlendMix half = mixer(0.5);
  int mixed = 0;
  for (uint64_t seed = 0; seed < 400; ++seed) {
    const bool first = half.mix(batch(seed)).inputs.defined();
    CHECK(half.mix(batch(seed)).inputs.defined() == first);  // same seed, same decision
    mixed += first ? 1 : 0;
  }
  CHECK(mixed >= 150);
  CHECK(mixed <= 250);

  BlendMix never = mixer(0.0);
  for (uint64_t seed = 0; seed < 400; ++seed) CHECK_FALSE(never.mix(batch(seed)).inputs.defined());
}

TEST_CASE("blend_mix README parameter table matches the options schema", "[blend_mix]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<BlendMix::Options>());
}
