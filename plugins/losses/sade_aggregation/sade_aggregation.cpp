// sade_aggregation: SADE's test-time self-supervised aggregation loss (Zhang et al., NeurIPS
// 2022).
#include "sade_aggregation.hpp"

#include <ATen/ATen.h>

namespace tailor::plugins {

SadeAggregationLoss::SadeAggregationLoss(const Options& /*options*/, const LossContext& context)
    : num_classes_(context.num_classes) {
  TAILOR_CHECK(num_classes_ >= 1, "sade_aggregation: needs at least one class, got ", num_classes_);
}

at::Tensor SadeAggregationLoss::forward(const LossInput& in) {
  // SADE's objective is self-supervised: in.targets (-1 on unlabeled test inputs) is never read.
  const at::Tensor& logits = in.logits;
  TAILOR_CHECK(logits.defined() && logits.dim() == 2 && logits.size(1) == num_classes_,
               "sade_aggregation: logits must be [2N, ", num_classes_, "], got ",
               logits.defined() ? logits.sizes() : at::IntArrayRef());
  const int64_t rows = logits.size(0);
  TAILOR_CHECK(rows > 0 && rows % 2 == 0, "sade_aggregation: the batch has ", rows,
               " rows, but the loss compares two augmented views of every image (rows [0, N) "
               "view 1, [N, 2N) view 2); give the stage `views = 2`");
  const int64_t n = rows / 2;
  const at::Tensor p1 = at::softmax(logits.narrow(0, 0, n), 1);
  const at::Tensor p2 = at::softmax(logits.narrow(0, n, n), 1);
  return at::cosine_similarity(p1, p2, 1, kCosineEpsilon).mean().neg();
}

}  // namespace tailor::plugins
