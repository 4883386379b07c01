// sqrt: a class with probability n_c^q / sum_k n_k^q, then a uniform member of it.
#pragma once

#include <tailor/components.hpp>
#include <tailor/options.hpp>

#include <cstdint>
#include <vector>

namespace tailor::plugins {

class SqrtSampler final : public Sampler {
 public:
  struct Options {
    double q = 0.5;

    template <class V>
    void visit(V& v) {
      v("q", q,
        "Class sampling exponent: p_c ~ n_c^q (0.5 = square root, 0 = class-balanced, "
        "1 = instance).",
        range(0, 1));
    }
  };

  SqrtSampler(const Options& options, const SamplerContext& context);
  std::vector<int64_t> indices(const SamplerEpoch& epoch) override;
  /// Probability of drawing each class (for tests and logs).
  std::vector<double> class_probabilities() const;

 private:
  Options options_;
  std::vector<std::vector<int64_t>> by_class_;
  int64_t num_samples_;
};

}  // namespace tailor::plugins
