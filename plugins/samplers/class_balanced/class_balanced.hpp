// class_balanced: a class uniformly, then a uniform member of it (Kang et al. 2020).
#pragma once

#include <tailor/components.hpp>
#include <tailor/options.hpp>

#include <cstdint>
#include <vector>

namespace tailor::plugins {

class ClassBalancedSampler final : public Sampler {
 public:
  struct Options {
    template <class V>
    void visit(V& /*v*/) {}
  };

  ClassBalancedSampler(const Options& options, const SamplerContext& context);
  std::vector<int64_t> indices(const SamplerEpoch& epoch) override;
  /// Probability of drawing each class (for tests and logs).
  std::vector<double> class_probabilities() const;

 private:
  std::vector<std::vector<int64_t>> by_class_;
  int64_t num_samples_;
};

}  // namespace tailor::plugins
