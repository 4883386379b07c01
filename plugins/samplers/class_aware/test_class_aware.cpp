// Tests of the class_aware sampler: the pre-plugin host's streams, its class distribution, the
// README table.
#include "class_aware.hpp"

#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

#include <vector>

using tailor::plugins::ClassAwareSampler;
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
TEST_CASE("class_aware draws the pre-plugin host's stream", "[sampler][class_aware]") {
  const std::vector<int64_t> labels = {0, 1, 0, 2, 0, 1, 0, 0, 1, 2, 0, 1, 0};
  ClassAwareSampler::Options o;
  o.k = 3;
  ClassAwareSampler s(o, sampler_context(labels, 3, 4));
  CHECK(s.indices(epoch_of(0xC0FFEE, 0)) ==
        std::vector<int64_t>{5, 1, 11, 3, 9, 3, 12, 4, 0, 8, 5, 8, 9});
  CHECK(s.indices(epoch_of(0xC0FFEE + 2, 2)) ==
        std::vector<int64_t>{3, 9, 9, 10, 2, 6, 8, 5, 11, 12, 7, 4, 1});
}

TEST_CASE("class_aware serves runs of k samples of one class", "[sampler][class_aware]") {
  const auto labels = lt_labels();
  ClassAwareSampler::Options o;
  o.k = 4;
  ClassAwareSampler s(o, sampler_context(labels, 3, 10));
  const auto order = s.indices(epoch_of(1, 0));
  REQUIRE(order.size() == labels.size());
  for (size_t i = 0; i + 4 <= 96; i += 4)
    for (size_t j = 1; j < 4; ++j) CHECK(labels[order[i + j]] == labels[order[i]]);
  for (double share : drawn_class_share(s, labels, 50, 0))
    CHECK(share == Approx(1.0 / 3).margin(0.03));
}

TEST_CASE("class_aware refuses a class without samples", "[sampler][class_aware]") {
  CHECK_THROWS_WITH(ClassAwareSampler({}, sampler_context({0, 0, 2}, 3)),
                    Catch::Contains("class 1 has none"));
}

TEST_CASE("class_aware README parameter table matches the options schema",
          "[sampler][class_aware]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<ClassAwareSampler::Options>());
}
