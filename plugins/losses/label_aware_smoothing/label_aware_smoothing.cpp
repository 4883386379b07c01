// label_aware_smoothing: label smoothing whose strength depends on the class count (MiSLAS).
#include "label_aware_smoothing.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace tailor::plugins {

namespace {
constexpr double kPi = 3.14159265358979323846;
}  // namespace

std::vector<double> LabelAwareSmoothing::smoothing_for(const std::vector<int64_t>& counts,
                                                       const Options& options) {
  TAILOR_CHECK(!counts.empty(), "label_aware_smoothing: no class counts");
  const auto [lo_it, hi_it] = std::minmax_element(counts.begin(), counts.end());
  const double n_min = static_cast<double>(*lo_it), n_max = static_cast<double>(*hi_it);
  const double head = options.eps_head, tail = options.eps_tail;
  std::vector<double> eps(counts.size());
  for (size_t c = 0; c < counts.size(); ++c) {
    // x = 0 for the rarest class, 1 for the most frequent; with equal counts (0/0 in the
    // official code) every class is treated as a head class.
    const double x =
        n_max > n_min ? (static_cast<double>(counts[c]) - n_min) / (n_max - n_min) : 1.0;
    switch (options.shape) {
      case Options::Shape::kConcave:
        eps[c] = tail + (head - tail) * std::sin(x * kPi / 2.0);
        break;
      case Options::Shape::kLinear:
        eps[c] = tail + (head - tail) * x;
        break;
      case Options::Shape::kConvex:
        eps[c] = head + (head - tail) * std::sin(1.5 * kPi + x * kPi / 2.0);
        break;
      case Options::Shape::kExp:
        eps[c] = tail + (head - tail) * std::pow(x, options.power);
        break;
    }
  }
  return eps;
}

LabelAwareSmoothing::LabelAwareSmoothing(const Options& options, const LossContext& context)
    : options_(options), num_classes_(context.num_classes) {
  TAILOR_CHECK(static_cast<int64_t>(context.class_counts.size()) == context.num_classes,
               "label_aware_smoothing: got ", context.class_counts.size(), " class counts for ",
               context.num_classes, " classes");
  smoothing_ = Constant(smoothing_for(context.class_counts, options), context.device);
}

at::Tensor LabelAwareSmoothing::forward(const LossInput& in) {
  const at::Tensor& z = in.logits;
  TAILOR_CHECK(z.dim() == 2 && z.size(1) == num_classes_,
               "label_aware_smoothing: logits must be [N, ", num_classes_, "], got ", z.sizes());
  const at::Tensor log_p = at::log_softmax(z, 1);
  const at::Tensor nll = -log_p.gather(1, in.targets.unsqueeze(1)).squeeze(1);
  const at::Tensor uniform = -log_p.mean(1);
  const at::Tensor eps = smoothing_.like(z).index_select(0, in.targets);
  const at::Tensor per_sample = (1.0 - eps) * nll + eps * uniform;
  return options_.reduction == Options::Reduction::kSum ? per_sample.sum() : per_sample.mean();
}

}  // namespace tailor::plugins
