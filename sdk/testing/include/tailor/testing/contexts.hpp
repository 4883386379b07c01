// tailor/testing/contexts.hpp - the SamplerContext and HeadContext a sampler or head is
// constructed with, as the host builds them from a dataset's training split.
#pragma once

#include <tailor/components.hpp>

#include <cstdint>
#include <utility>
#include <vector>

namespace tailor::testing {

/// A SamplerContext for a training split whose sample i has label `labels[i]`, with
/// `num_classes` classes (class counts follow from the labels) and a stage of
/// `total_epochs` epochs.
///
///   MySampler sampler(options, tailor::testing::sampler_context({0, 0, 0, 1, 2}, 3));
inline SamplerContext sampler_context(std::vector<int64_t> labels, int64_t num_classes,
                                      int64_t total_epochs = 1) {
  SamplerContext context;
  context.num_classes = num_classes;
  context.class_counts.assign(static_cast<size_t>(num_classes), 0);
  for (int64_t y : labels)
    if (y >= 0 && y < num_classes) ++context.class_counts[static_cast<size_t>(y)];
  context.labels = std::move(labels);
  context.total_epochs = total_epochs;
  return context;
}

/// A HeadContext for features of width `in_features` and a training split with
/// `class_counts[c]` samples of class c.
///
///   MyHead head(options, tailor::testing::head_context(64, {500, 100, 10}));
inline HeadContext head_context(int64_t in_features, std::vector<int64_t> class_counts) {
  HeadContext context;
  context.in_features = in_features;
  context.num_classes = static_cast<int64_t>(class_counts.size());
  context.class_counts = std::move(class_counts);
  return context;
}

}  // namespace tailor::testing
