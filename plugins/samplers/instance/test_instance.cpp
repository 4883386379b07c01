// Tests of the instance sampler: the pre-plugin host's streams, its class distribution, the
// README table.
#include "instance.hpp"

#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

using tailor::plugins::InstanceSampler;
using tailor::testing::sampler_context;

namespace {

// 3 classes with 60 / 30 / 10 samples.
std::vector<int64_t> lt_labels() {
  std::vector<int64_t> labels;
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t i = 0; i < (c == 0 ? 60 : c == 1 ? 30 : 10); ++i) labels.push_back(c);
  return labels;
}

tailor::SamplerEpoch epoch_of(uint64_t seed, int64_t epoch) {
  tailor::SamplerEpoch e;
  e.seed = seed;
  e.clock.epoch = epoch;
  return e;
}

}  // namespace

// The streams host/data/sampler.cpp drew before samplers became plugins (tailor at commit
// dfeb118), for 13 samples of 3 classes (7 / 4 / 2), a stage of 4 epochs, epoch e with
// seed 0xC0FFEE + e: the plugin must reproduce them bit for bit.
TEST_CASE("instance draws the pre-plugin host's stream", "[sampler][instance]") {
  const std::vector<int64_t> labels = {0, 1, 0, 2, 0, 1, 0, 0, 1, 2, 0, 1, 0};
  InstanceSampler::Options o;
  InstanceSampler s(o, sampler_context(labels, 3, 4));
  CHECK(s.indices(epoch_of(0xC0FFEE, 0)) ==
        std::vector<int64_t>{1, 5, 10, 8, 6, 2, 12, 4, 3, 11, 9, 7, 0});
  CHECK(s.indices(epoch_of(0xC0FFEE + 2, 2)) ==
        std::vector<int64_t>{6, 8, 12, 5, 4, 3, 11, 1, 9, 0, 10, 2, 7});
}

TEST_CASE("instance visits every sample once per epoch", "[sampler][instance]") {
  const auto labels = lt_labels();
  InstanceSampler s({}, sampler_context(labels, 3, 10));
  auto order = s.indices(epoch_of(7, 0));
  REQUIRE(order.size() == labels.size());
  std::sort(order.begin(), order.end());
  for (size_t i = 0; i < order.size(); ++i) CHECK(order[i] == static_cast<int64_t>(i));
  CHECK(s.indices(epoch_of(7, 0)) == s.indices(epoch_of(7, 0)));  // a pure function
  CHECK(s.indices(epoch_of(7, 0)) != s.indices(epoch_of(7, 1)));
  CHECK(s.indices(epoch_of(7, 0)) != s.indices(epoch_of(8, 0)));
}

TEST_CASE("instance README parameter table matches the options schema", "[sampler][instance]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<InstanceSampler::Options>());
}
