// class_aware: runs of k samples of one class, classes visited in shuffled cycles.
#include "class_aware.hpp"

#include "common/sampling.hpp"

#include <numeric>

namespace tailor::plugins {

ClassAwareSampler::ClassAwareSampler(const Options& options, const SamplerContext& context)
    : options_(options),
      by_class_(samplers::positions_by_class(context.labels, context.num_classes)),
      num_samples_(static_cast<int64_t>(context.labels.size())) {
  samplers::require_every_class(by_class_, "class_aware");
}

std::vector<int64_t> ClassAwareSampler::indices(const SamplerEpoch& epoch) {
  auto rng = samplers::epoch_generator(epoch.seed, epoch.clock.epoch);
  // Classes visited in shuffled cycles; each class serves k samples from its own shuffled
  // cycle (the classifier-balancing ClassAwareSampler with num_samples_cls = k).
  std::vector<std::vector<int64_t>> pools = by_class_;
  std::vector<size_t> cursor(pools.size(), 0);
  for (auto& pool : pools) samplers::shuffle(pool, rng);
  std::vector<int64_t> classes(pools.size());
  std::iota(classes.begin(), classes.end(), 0);
  size_t next_class = classes.size();
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(num_samples_));
  while (static_cast<int64_t>(out.size()) < num_samples_) {
    if (next_class == classes.size()) {
      samplers::shuffle(classes, rng);
      next_class = 0;
    }
    const int64_t c = classes[next_class++];
    auto& pool = pools[static_cast<size_t>(c)];
    for (int64_t j = 0; j < options_.k && static_cast<int64_t>(out.size()) < num_samples_; ++j) {
      if (cursor[c] == pool.size()) {
        samplers::shuffle(pool, rng);
        cursor[c] = 0;
      }
      out.push_back(pool[cursor[c]++]);
    }
  }
  return out;
}

}  // namespace tailor::plugins
