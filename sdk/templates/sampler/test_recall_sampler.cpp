// Tests of recall_sampler with tailor's plugin test kit: options as the host reads them, the
// stream's range and determinism, the effect of val recall, README table.
#include "recall_sampler.hpp"

#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

using recall_sampler::RecallSampler;
using tailor::testing::options;
using tailor::testing::sampler_context;

namespace {

// 40 samples of class 0, 10 of class 1.
tailor::SamplerContext context() {
  std::vector<int64_t> labels(40, 0);
  labels.resize(50, 1);
  return sampler_context(labels, 2);
}

double share_of_class_1(const std::vector<int64_t>& stream) {
  double n = 0;
  for (int64_t i : stream) n += i >= 40 ? 1 : 0;
  return n / static_cast<double>(stream.size());
}

}  // namespace

TEST_CASE("recall_sampler reads its options as the host does", "[recall_sampler]") {
  CHECK(options<RecallSampler::Options>("").floor == 0.1);
  CHECK_THROWS_WITH(options<RecallSampler::Options>("floor = 0.0"),
                    Catch::Contains("floor must be > 0"));
}

TEST_CASE("recall_sampler draws valid positions, the same for the same seed", "[recall_sampler]") {
  RecallSampler s({}, context());
  tailor::SamplerEpoch e;
  e.seed = 7;
  const auto stream = s.indices(e);
  REQUIRE(stream.size() == 50);
  for (int64_t i : stream) CHECK((i >= 0 && i < 50));
  CHECK(s.indices(e) == stream);
  e.seed = 8;
  CHECK(s.indices(e) != stream);
}

TEST_CASE("recall_sampler visits the class with the lower val recall more", "[recall_sampler]") {
  RecallSampler s({}, context());
  tailor::SamplerEpoch e;
  e.seed = 1;
  e.val_stats.accuracy = {0.9, 0.1};  // class 1 is mostly wrong
  e.val_stats.support = {100, 100};
  double share = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    e.seed = seed;
    share += share_of_class_1(s.indices(e)) / 20;
  }
  CHECK(share == Approx(1.0 / 1.2).margin(0.05));  // (0.9 + 0.1) / ((0.1 + 0.1) + (0.9 + 0.1))
}

TEST_CASE("recall_sampler README parameter table matches the options schema", "[recall_sampler]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<RecallSampler::Options>());
}
