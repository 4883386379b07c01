// tailor/testing/loss_context.hpp - the LossContext a loss is constructed with, from class
// counts, as the host builds it from a dataset's training split.
#pragma once

#include <tailor/components.hpp>

#include <cstdint>
#include <utility>
#include <vector>

namespace tailor::testing {

/// A CPU LossContext for a training split with `class_counts[c]` samples of class c:
/// num_classes is the number of counts, feature_dim the backbone's feature width (0 when
/// the loss does not read features), total_epochs 0.
///
///   MyLoss loss(options, tailor::testing::loss_context({500, 100, 10}));
///   MyLoss flat(options, tailor::testing::loss_context(std::vector<int64_t>(4, 1)));
inline LossContext loss_context(std::vector<int64_t> class_counts, int64_t feature_dim = 0) {
  LossContext context;
  context.num_classes = static_cast<int64_t>(class_counts.size());
  context.class_counts = std::move(class_counts);
  context.feature_dim = feature_dim;
  return context;
}

}  // namespace tailor::testing
