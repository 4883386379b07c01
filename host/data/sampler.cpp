// host/data/sampler.cpp - instance, class-balanced, square-root, progressive and
// class-aware sampling (Kang et al. 2020; Shen et al. 2016 for class-aware).
#include "data/sampler.hpp"

#include <tailor/error.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace tailor::host {
namespace {

// Uniform integer in [0, n) from a 64-bit generator without modulo bias.
int64_t uniform(std::mt19937_64& rng, int64_t n) {
  const uint64_t range = static_cast<uint64_t>(n);
  const uint64_t limit = UINT64_MAX - UINT64_MAX % range;
  uint64_t x;
  do x = rng();
  while (x >= limit);
  return static_cast<int64_t>(x % range);
}

// Fisher-Yates with our own index draws, so orders match across standard libraries.
void shuffle(std::vector<int64_t>& v, std::mt19937_64& rng) {
  for (int64_t i = static_cast<int64_t>(v.size()) - 1; i > 0; --i)
    std::swap(v[i], v[uniform(rng, i + 1)]);
}

// Index drawn from a discrete distribution given its cumulative sums.
int64_t draw(const std::vector<double>& cumulative, std::mt19937_64& rng) {
  const double u = std::generate_canonical<double, 64>(rng) * cumulative.back();
  const auto it = std::upper_bound(cumulative.begin(), cumulative.end(), u);
  return std::min<int64_t>(it - cumulative.begin(), static_cast<int64_t>(cumulative.size()) - 1);
}

}  // namespace

Sampler::Sampler(const SamplerOptions& options, std::vector<int64_t> labels, int64_t num_classes,
                 int64_t stage_epochs)
    : options_(options),
      labels_(std::move(labels)),
      num_classes_(num_classes),
      stage_epochs_(std::max<int64_t>(1, stage_epochs)),
      by_class_(static_cast<size_t>(num_classes)) {
  for (size_t i = 0; i < labels_.size(); ++i)
    by_class_[labels_[i]].push_back(static_cast<int64_t>(i));
  if (options_.type != SamplerOptions::Type::kInstance) {
    for (int64_t c = 0; c < num_classes_; ++c)
      TAILOR_CHECK(!by_class_[c].empty() || options_.type == SamplerOptions::Type::kSqrt ||
                       options_.type == SamplerOptions::Type::kProgressive,
                   "[sampler] type = \"", SamplerOptions::kTypes.name(options_.type),
                   "\" needs at least one train sample of "
                   "every class, but class ",
                   c, " has none; use type = \"instance\" or \"sqrt\"");
  }
}

std::vector<double> Sampler::class_probabilities(int64_t epoch) const {
  std::vector<double> p(static_cast<size_t>(num_classes_), 0.0);
  const double n = static_cast<double>(labels_.size());
  int64_t present = 0;
  for (const auto& members : by_class_) present += members.empty() ? 0 : 1;
  for (int64_t c = 0; c < num_classes_; ++c) {
    const double n_c = static_cast<double>(by_class_[c].size());
    if (n_c == 0) continue;
    const double instance = n_c / n, balanced = 1.0 / static_cast<double>(present);
    if (options_.type == SamplerOptions::Type::kInstance)
      p[c] = instance;
    else if (options_.type == SamplerOptions::Type::kClassBalanced ||
             options_.type == SamplerOptions::Type::kClassAware)
      p[c] = balanced;
    else if (options_.type == SamplerOptions::Type::kProgressive) {
      const double t = static_cast<double>(epoch) / static_cast<double>(stage_epochs_);
      p[c] = (1.0 - t) * instance + t * balanced;
    }
  }
  if (options_.type == SamplerOptions::Type::kSqrt) {
    double z = 0;
    for (int64_t c = 0; c < num_classes_; ++c)
      z += std::pow(static_cast<double>(by_class_[c].size()), options_.q);
    for (int64_t c = 0; c < num_classes_; ++c)
      p[c] = std::pow(static_cast<double>(by_class_[c].size()), options_.q) / z;
  }
  return p;
}

std::vector<int64_t> Sampler::order(uint64_t seed, int64_t epoch) const {
  std::mt19937_64 rng(seed ^ (0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(epoch + 1)));
  const auto n = static_cast<int64_t>(labels_.size());
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(n));
  if (options_.type == SamplerOptions::Type::kInstance) {
    out.resize(static_cast<size_t>(n));
    std::iota(out.begin(), out.end(), 0);
    shuffle(out, rng);
    return out;
  }
  if (options_.type == SamplerOptions::Type::kClassAware) {
    // Classes visited in shuffled cycles; each class serves k samples from its own shuffled
    // cycle (the classifier-balancing ClassAwareSampler with num_samples_cls = k).
    std::vector<std::vector<int64_t>> pools = by_class_;
    std::vector<size_t> cursor(pools.size(), 0);
    for (auto& pool : pools) shuffle(pool, rng);
    std::vector<int64_t> classes(static_cast<size_t>(num_classes_));
    std::iota(classes.begin(), classes.end(), 0);
    size_t next_class = classes.size();
    while (static_cast<int64_t>(out.size()) < n) {
      if (next_class == classes.size()) {
        shuffle(classes, rng);
        next_class = 0;
      }
      const int64_t c = classes[next_class++];
      auto& pool = pools[c];
      for (int64_t j = 0; j < options_.k && static_cast<int64_t>(out.size()) < n; ++j) {
        if (cursor[c] == pool.size()) {
          shuffle(pool, rng);
          cursor[c] = 0;
        }
        out.push_back(pool[cursor[c]++]);
      }
    }
    return out;
  }
  // class_balanced, sqrt, progressive: a class from p(epoch), then a uniform member.
  const auto p = class_probabilities(epoch);
  std::vector<double> cumulative(p.size());
  std::partial_sum(p.begin(), p.end(), cumulative.begin());
  for (int64_t i = 0; i < n; ++i) {
    const auto& members = by_class_[draw(cumulative, rng)];
    out.push_back(members[uniform(rng, static_cast<int64_t>(members.size()))]);
  }
  return out;
}

}  // namespace tailor::host
