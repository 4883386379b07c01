// class_aware: runs of k samples of one class, classes visited in shuffled cycles.
#pragma once

#include <tailor/components.hpp>
#include <tailor/options.hpp>

#include <cstdint>
#include <vector>

namespace tailor::plugins {

class ClassAwareSampler final : public Sampler {
 public:
  struct Options {
    int64_t k = 4;

    template <class V>
    void visit(V& v) {
      v("k", k, "Samples taken from a class before moving to the next class.", at_least(1));
    }
  };

  ClassAwareSampler(const Options& options, const SamplerContext& context);
  std::vector<int64_t> indices(const SamplerEpoch& epoch) override;

 private:
  Options options_;
  std::vector<std::vector<int64_t>> by_class_;
  int64_t num_samples_;
};

}  // namespace tailor::plugins
