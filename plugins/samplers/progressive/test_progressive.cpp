// Tests of the progressive sampler: the pre-plugin host's streams, its class distribution, the
// README table.
#include "progressive.hpp"

#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

#include <vector>

using tailor::plugins::ProgressiveSampler;
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
TEST_CASE("progressive draws the pre-plugin host's stream", "[sampler][progressive]") {
  const std::vector<int64_t> labels = {0, 1, 0, 2, 0, 1, 0, 0, 1, 2, 0, 1, 0};
  ProgressiveSampler::Options o;
  ProgressiveSampler s(o, sampler_context(labels, 3, 4));
  CHECK(s.indices(epoch_of(0xC0FFEE, 0)) ==
        std::vector<int64_t>{11, 9, 3, 1, 11, 4, 7, 0, 2, 6, 5, 12, 5});
  CHECK(s.indices(epoch_of(0xC0FFEE + 2, 2)) ==
        std::vector<int64_t>{8, 3, 5, 5, 7, 1, 4, 5, 10, 3, 4, 8, 5});
}

TEST_CASE("progressive moves from instance to class-balanced over the stage",
          "[sampler][progressive]") {
  const auto labels = lt_labels();
  ProgressiveSampler s({}, sampler_context(labels, 3, 10));
  CHECK(s.class_probabilities(0)[0] == Approx(0.6));
  CHECK(s.class_probabilities(5)[0] == Approx(0.5 * 0.6 + 0.5 / 3));
  CHECK(drawn_class_share(s, labels, 200, 5)[2] == Approx(0.5 * 0.1 + 0.5 / 3).margin(0.02));
}

TEST_CASE("progressive README parameter table matches the options schema",
          "[sampler][progressive]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<ProgressiveSampler::Options>());
}
