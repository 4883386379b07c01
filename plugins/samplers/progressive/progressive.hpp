// progressive: instance-balanced sampling moving linearly to class-balanced over a stage.
#pragma once

#include <tailor/components.hpp>
#include <tailor/options.hpp>

#include <cstdint>
#include <vector>

namespace tailor::plugins {

class ProgressiveSampler final : public Sampler {
 public:
  struct Options {
    template <class V>
    void visit(V& /*v*/) {}
  };

  ProgressiveSampler(const Options& options, const SamplerContext& context);
  std::vector<int64_t> indices(const SamplerEpoch& epoch) override;
  /// Probability of drawing each class in `epoch` (0-based within the stage).
  std::vector<double> class_probabilities(int64_t epoch) const;

 private:
  std::vector<std::vector<int64_t>> by_class_;
  int64_t num_samples_;
  int64_t stage_epochs_;
};

}  // namespace tailor::plugins
