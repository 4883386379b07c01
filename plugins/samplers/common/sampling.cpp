// samplers/common/sampling.cpp - shared draws of the sampler plugins.
#include "common/sampling.hpp"

#include <tailor/error.hpp>

#include <algorithm>
#include <numeric>

namespace tailor::samplers {

std::mt19937_64 epoch_generator(uint64_t seed, int64_t epoch) {
  return std::mt19937_64(seed ^ (0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(epoch + 1)));
}

int64_t uniform(std::mt19937_64& rng, int64_t n) {
  const uint64_t range = static_cast<uint64_t>(n);
  const uint64_t limit = UINT64_MAX - UINT64_MAX % range;
  uint64_t x;
  do x = rng();
  while (x >= limit);
  return static_cast<int64_t>(x % range);
}

void shuffle(std::vector<int64_t>& v, std::mt19937_64& rng) {
  for (int64_t i = static_cast<int64_t>(v.size()) - 1; i > 0; --i)
    std::swap(v[i], v[uniform(rng, i + 1)]);
}

int64_t draw(const std::vector<double>& cumulative, std::mt19937_64& rng) {
  const double u = std::generate_canonical<double, 64>(rng) * cumulative.back();
  const auto it = std::upper_bound(cumulative.begin(), cumulative.end(), u);
  return std::min<int64_t>(it - cumulative.begin(), static_cast<int64_t>(cumulative.size()) - 1);
}

std::vector<std::vector<int64_t>> positions_by_class(const std::vector<int64_t>& labels,
                                                     int64_t num_classes) {
  std::vector<std::vector<int64_t>> by_class(static_cast<size_t>(num_classes));
  for (size_t i = 0; i < labels.size(); ++i) {
    TAILOR_CHECK(labels[i] >= 0 && labels[i] < num_classes, "train label ", labels[i],
                 " of sample ", i, " is outside [0, ", num_classes, ")");
    by_class[static_cast<size_t>(labels[i])].push_back(static_cast<int64_t>(i));
  }
  return by_class;
}

void require_every_class(const std::vector<std::vector<int64_t>>& by_class,
                         const std::string& name) {
  for (size_t c = 0; c < by_class.size(); ++c)
    TAILOR_CHECK(!by_class[c].empty(), "sampler '", name,
                 "' needs at least one train sample of every class, but class ", c,
                 " has none; use [sampler] plugin = \"instance\", \"sqrt\" or \"progressive\"");
}

std::vector<int64_t> class_then_member(const std::vector<std::vector<int64_t>>& by_class,
                                       const std::vector<double>& p, int64_t n,
                                       std::mt19937_64& rng) {
  std::vector<double> cumulative(p.size());
  std::partial_sum(p.begin(), p.end(), cumulative.begin());
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const auto& members = by_class[static_cast<size_t>(draw(cumulative, rng))];
    out.push_back(members[static_cast<size_t>(uniform(rng, static_cast<int64_t>(members.size())))]);
  }
  return out;
}

}  // namespace tailor::samplers
