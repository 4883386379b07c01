// sqrt: a class with probability n_c^q / sum_k n_k^q, then a uniform member of it.
#include "sqrt.hpp"

#include "common/sampling.hpp"

#include <cmath>

namespace tailor::plugins {

SqrtSampler::SqrtSampler(const Options& options, const SamplerContext& context)
    : options_(options),
      by_class_(samplers::positions_by_class(context.labels, context.num_classes)),
      num_samples_(static_cast<int64_t>(context.labels.size())) {}

// Classes without samples get p = 0 (and add nothing to the normaliser, so q = 0 stays
// class-balanced over the classes that exist).
std::vector<double> SqrtSampler::class_probabilities() const {
  std::vector<double> p(by_class_.size(), 0.0);
  double z = 0;
  for (const auto& members : by_class_)
    if (!members.empty()) z += std::pow(static_cast<double>(members.size()), options_.q);
  for (size_t c = 0; c < by_class_.size(); ++c)
    if (!by_class_[c].empty())
      p[c] = std::pow(static_cast<double>(by_class_[c].size()), options_.q) / z;
  return p;
}

std::vector<int64_t> SqrtSampler::indices(const SamplerEpoch& epoch) {
  auto rng = samplers::epoch_generator(epoch.seed, epoch.clock.epoch);
  return samplers::class_then_member(by_class_, class_probabilities(), num_samples_, rng);
}

}  // namespace tailor::plugins
