// label_aware_smoothing: label smoothing whose strength depends on the class count (MiSLAS).
#pragma once

#include <tailor/components.hpp>
#include <tailor/constant.hpp>
#include <tailor/options.hpp>

#include <cstdint>
#include <vector>

namespace tailor::plugins {

/// Label-aware smoothing: l_i = (1 - eps_y) (-log p_y) + eps_y mean_j(-log p_j), with eps_c
/// moving from eps_tail (rarest class) to eps_head (most frequent class) along a concave,
/// linear, convex or power profile of the normalised count (n_c - n_min) / (n_max - n_min).
class LabelAwareSmoothing final : public Loss {
 public:
  struct Options {
    enum class Shape { kConcave, kLinear, kConvex, kExp };
    static constexpr auto kShapes = choice<Shape>({{"concave", Shape::kConcave},
                                                   {"linear", Shape::kLinear},
                                                   {"convex", Shape::kConvex},
                                                   {"exp", Shape::kExp}});
    enum class Reduction { kMean, kSum };
    static constexpr auto kReductions =
        choice<Reduction>({{"mean", Reduction::kMean}, {"sum", Reduction::kSum}});

    double eps_head = 0.4;
    double eps_tail = 0.1;
    Shape shape = Shape::kConcave;
    double power = 2.0;
    Reduction reduction = Reduction::kMean;

    template <class V>
    void visit(V& v) {
      v("eps_head", eps_head, "Smoothing of the most frequent class.", range(0.0, 1.0));
      v("eps_tail", eps_tail, "Smoothing of the rarest class.", range(0.0, 1.0));
      v("shape", shape,
        "Profile of eps_c over the normalised count x: concave (sine), linear, convex, or exp "
        "(x^power).",
        kShapes);
      v("power", power, "Exponent of shape = \"exp\".", greater_than(0.0));
      v("reduction", reduction, "mean: batch mean; sum: sum over the batch.", kReductions);
    }
  };

  LabelAwareSmoothing(const Options& options, const LossContext& context);
  at::Tensor forward(const LossInput& input) override;

  /// eps_c for class counts `counts`; every class gets eps_head when all counts are equal.
  static std::vector<double> smoothing_for(const std::vector<int64_t>& counts,
                                           const Options& options);
  /// Per-class smoothing in use, [C] float32.
  const at::Tensor& smoothing() const { return smoothing_.f32(); }

 private:
  Options options_;
  int64_t num_classes_;
  Constant smoothing_;  // [C] on the context's device
};

}  // namespace tailor::plugins
