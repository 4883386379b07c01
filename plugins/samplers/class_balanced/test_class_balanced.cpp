// Tests of the class_balanced sampler: the pre-plugin host's streams, its class distribution, the
// README table.
#include "class_balanced.hpp"

#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

#include <vector>

using tailor::plugins::ClassBalancedSampler;
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

// The share of each class among the samples drawn in `runs` epochs with seeds 0..runs-1.
template <class S>
std::vector<double> drawn_class_share(S& s, const std::vector<int64_t>& labels, int runs,
                                      int64_t epoch) {
  std::vector<double> count(3, 0);
  double total = 0;
  for (int r = 0; r < runs; ++r)
    for (int64_t i : s.indices(epoch_of(static_cast<uint64_t>(r), epoch))) {
      count[static_cast<size_t>(labels[static_cast<size_t>(i)])] += 1;
      total += 1;
    }
  for (auto& c : count) c /= total;
  return count;
}

}  // namespace

// The streams host/data/sampler.cpp drew before samplers became plugins (tailor at commit
// dfeb118), for 13 samples of 3 classes (7 / 4 / 2), a stage of 4 epochs, epoch e with
// seed 0xC0FFEE + e: the plugin must reproduce them bit for bit.
TEST_CASE("class_balanced draws the pre-plugin host's stream", "[sampler][class_balanced]") {
  const std::vector<int64_t> labels = {0, 1, 0, 2, 0, 1, 0, 0, 1, 2, 0, 1, 0};
  ClassBalancedSampler::Options o;
  ClassBalancedSampler s(o, sampler_context(labels, 3, 4));
  CHECK(s.indices(epoch_of(0xC0FFEE, 0)) ==
        std::vector<int64_t>{9, 9, 3, 1, 9, 4, 7, 5, 2, 6, 9, 12, 5});
  CHECK(s.indices(epoch_of(0xC0FFEE + 2, 2)) ==
        std::vector<int64_t>{8, 3, 5, 5, 11, 1, 4, 9, 11, 3, 4, 8, 5});
}

TEST_CASE("class_balanced draws classes uniformly", "[sampler][class_balanced]") {
  const auto labels = lt_labels();
  ClassBalancedSampler s({}, sampler_context(labels, 3, 10));
  for (double p : s.class_probabilities()) CHECK(p == Approx(1.0 / 3));
  for (double share : drawn_class_share(s, labels, 200, 0))
    CHECK(share == Approx(1.0 / 3).margin(0.02));
}

TEST_CASE("class_balanced refuses a class without samples", "[sampler][class_balanced]") {
  CHECK_THROWS_WITH(ClassBalancedSampler({}, sampler_context({0, 0, 2}, 3)),
                    Catch::Contains("class 1 has none"));
}

TEST_CASE("class_balanced README parameter table matches the options schema",
          "[sampler][class_balanced]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<ClassBalancedSampler::Options>());
}
