// long_tail.hpp: per-class sample counts of the long-tailed profiles (LDAM-DRW's
// IMBALANCECIFAR10.get_img_num_per_cls), shared by the in-memory datasets.
#pragma once

#include <tailor/error.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

namespace tailor::image {

/// How the class counts fall from the first class to the last.
enum class LongTailProfile {
  kExp,   ///< n_i = img_max * (1 / imbalance_ratio)^(i / (C - 1))
  kStep,  ///< the first C / 2 classes keep img_max, the rest img_max / imbalance_ratio
};

/// Samples to keep of each of `num_classes` classes, img_max for class 0, each count
/// truncated to an integer as Python's int() does. img_max is a double because LDAM-DRW
/// computes it as len(train) / C (a float); whole numbers give the same counts as integers.
inline std::vector<int64_t> long_tail_counts(LongTailProfile profile, double img_max,
                                             double imbalance_ratio, int64_t num_classes) {
  TAILOR_CHECK(num_classes >= 0 && imbalance_ratio > 0.0, "long_tail_counts: ", num_classes,
               " classes, imbalance_ratio ", imbalance_ratio);
  const double imb_factor = 1.0 / imbalance_ratio;
  std::vector<int64_t> counts(static_cast<size_t>(num_classes));
  for (int64_t i = 0; i < num_classes; ++i) {
    double n = img_max;
    if (profile == LongTailProfile::kStep) {
      if (i >= num_classes / 2) n = img_max * imb_factor;
    } else {
      const double exponent = num_classes > 1 ? static_cast<double>(i) / (num_classes - 1.0) : 0.0;
      n = img_max * std::pow(imb_factor, exponent);
    }
    counts[static_cast<size_t>(i)] = static_cast<int64_t>(n);
  }
  return counts;
}

}  // namespace tailor::image
