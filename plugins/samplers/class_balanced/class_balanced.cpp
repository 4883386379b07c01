// class_balanced: a class uniformly, then a uniform member of it (Kang et al. 2020).
#include "class_balanced.hpp"

#include "common/sampling.hpp"

namespace tailor::plugins {

ClassBalancedSampler::ClassBalancedSampler(const Options& /*options*/,
                                           const SamplerContext& context)
    : by_class_(samplers::positions_by_class(context.labels, context.num_classes)),
      num_samples_(static_cast<int64_t>(context.labels.size())) {
  samplers::require_every_class(by_class_, "class_balanced");
}

std::vector<double> ClassBalancedSampler::class_probabilities() const {
  int64_t present = 0;
  for (const auto& members : by_class_) present += members.empty() ? 0 : 1;
  std::vector<double> p(by_class_.size(), 0.0);
  for (size_t c = 0; c < by_class_.size(); ++c)
    if (!by_class_[c].empty()) p[c] = 1.0 / static_cast<double>(present);
  return p;
}

std::vector<int64_t> ClassBalancedSampler::indices(const SamplerEpoch& epoch) {
  auto rng = samplers::epoch_generator(epoch.seed, epoch.clock.epoch);
  return samplers::class_then_member(by_class_, class_probabilities(), num_samples_, rng);
}

}  // namespace tailor::plugins
