// progressive: instance-balanced sampling moving linearly to class-balanced over a stage.
#include "progressive.hpp"

#include "common/sampling.hpp"

#include <algorithm>

namespace tailor::plugins {

ProgressiveSampler::ProgressiveSampler(const Options& /*options*/, const SamplerContext& context)
    : by_class_(samplers::positions_by_class(context.labels, context.num_classes)),
      num_samples_(static_cast<int64_t>(context.labels.size())),
      stage_epochs_(std::max<int64_t>(1, context.total_epochs)) {}

// p_c(t) = (1 - t) n_c / n + t / C' with t = epoch / epochs of the stage, C' the classes
// that have samples (Kang et al. 2020, "progressively-balanced").
std::vector<double> ProgressiveSampler::class_probabilities(int64_t epoch) const {
  std::vector<double> p(by_class_.size(), 0.0);
  const double n = static_cast<double>(num_samples_);
  int64_t present = 0;
  for (const auto& members : by_class_) present += members.empty() ? 0 : 1;
  const double t = static_cast<double>(epoch) / static_cast<double>(stage_epochs_);
  for (size_t c = 0; c < by_class_.size(); ++c) {
    const double n_c = static_cast<double>(by_class_[c].size());
    if (n_c == 0) continue;
    const double instance = n_c / n, balanced = 1.0 / static_cast<double>(present);
    p[c] = (1.0 - t) * instance + t * balanced;
  }
  return p;
}

std::vector<int64_t> ProgressiveSampler::indices(const SamplerEpoch& epoch) {
  auto rng = samplers::epoch_generator(epoch.seed, epoch.clock.epoch);
  return samplers::class_then_member(by_class_, class_probabilities(epoch.clock.epoch),
                                     num_samples_, rng);
}

}  // namespace tailor::plugins
