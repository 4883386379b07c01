// instance: every train sample once per epoch, in a shuffled order.
#include "instance.hpp"

#include "common/sampling.hpp"

#include <numeric>

namespace tailor::plugins {

InstanceSampler::InstanceSampler(const Options& /*options*/, const SamplerContext& context)
    : num_samples_(static_cast<int64_t>(context.labels.size())) {}

std::vector<int64_t> InstanceSampler::indices(const SamplerEpoch& epoch) {
  auto rng = samplers::epoch_generator(epoch.seed, epoch.clock.epoch);
  std::vector<int64_t> out(static_cast<size_t>(num_samples_));
  std::iota(out.begin(), out.end(), 0);
  samplers::shuffle(out, rng);
  return out;
}

}  // namespace tailor::plugins
