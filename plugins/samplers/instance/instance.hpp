// instance: every train sample once per epoch, in a shuffled order.
#pragma once

#include <tailor/components.hpp>
#include <tailor/options.hpp>

#include <cstdint>
#include <vector>

namespace tailor::plugins {

class InstanceSampler final : public Sampler {
 public:
  struct Options {
    template <class V>
    void visit(V& /*v*/) {}
  };

  InstanceSampler(const Options& options, const SamplerContext& context);
  std::vector<int64_t> indices(const SamplerEpoch& epoch) override;

 private:
  int64_t num_samples_;
};

}  // namespace tailor::plugins
