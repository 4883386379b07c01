// Tests of the sqrt sampler: the pre-plugin host's streams, its class distribution, the
// README table.
#include "sqrt.hpp"

#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

using tailor::plugins::SqrtSampler;
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
TEST_CASE("sqrt draws the pre-plugin host's stream", "[sampler][sqrt]") {
  const std::vector<int64_t> labels = {0, 1, 0, 2, 0, 1, 0, 0, 1, 2, 0, 1, 0};
  SqrtSampler::Options o;
  o.q = 0.5;
  SqrtSampler s(o, sampler_context(labels, 3, 4));
  CHECK(s.indices(epoch_of(0xC0FFEE, 0)) ==
        std::vector<int64_t>{9, 9, 3, 1, 11, 4, 7, 5, 2, 6, 5, 12, 5});
  CHECK(s.indices(epoch_of(0xC0FFEE + 2, 2)) ==
        std::vector<int64_t>{8, 3, 5, 5, 7, 1, 4, 5, 10, 3, 4, 8, 5});
}

TEST_CASE("sqrt draws class c with probability n_c^q / sum", "[sampler][sqrt]") {
  const auto labels = lt_labels();
  SqrtSampler::Options o;
  SqrtSampler s(o, sampler_context(labels, 3, 10));
  const double z = std::sqrt(60.0) + std::sqrt(30.0) + std::sqrt(10.0);
  CHECK(s.class_probabilities()[0] == Approx(std::sqrt(60.0) / z));
  const auto share = drawn_class_share(s, labels, 200, 0);
  CHECK(share[0] == Approx(std::sqrt(60.0) / z).margin(0.02));
  CHECK(share[2] == Approx(std::sqrt(10.0) / z).margin(0.02));
}

TEST_CASE("sqrt gives a class without samples no mass, even with q = 0", "[sampler][sqrt]") {
  // q = 0 is class-balanced over the classes that exist: pow(0, 0) = 1 must not count.
  SqrtSampler::Options o;
  o.q = 0.0;
  const std::vector<int64_t> labels = {0, 0, 2, 2, 0};
  SqrtSampler s(o, sampler_context(labels, 3));
  CHECK(s.class_probabilities() == std::vector<double>{0.5, 0.0, 0.5});
  double class_0 = 0, total = 0;
  for (uint64_t seed = 0; seed < 400; ++seed)
    for (int64_t i : s.indices(epoch_of(seed, 0))) {
      class_0 += labels[static_cast<size_t>(i)] == 0 ? 1 : 0;
      total += 1;
    }
  CHECK(class_0 / total == Approx(0.5).margin(0.03));
}

TEST_CASE("sqrt README parameter table matches the options schema", "[sampler][sqrt]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<SqrtSampler::Options>());
}
