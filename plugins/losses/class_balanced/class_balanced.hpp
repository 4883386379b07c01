// class_balanced: Class-Balanced loss with effective-number weights (Cui et al., CVPR 2019).
#pragma once

#include <tailor/components.hpp>
#include <tailor/constant.hpp>
#include <tailor/options.hpp>

#include <cstdint>
#include <vector>

namespace tailor::plugins {

/// Class-Balanced loss: l_i = alpha_{y_i} L(z_i, y_i), alpha_c proportional to
/// (1 - beta) / (1 - beta^{n_c}) and normalised to sum C; L is softmax CE, one-vs-all sigmoid
/// CE, or one-vs-all sigmoid focal loss, each as the official TensorFlow code computes it.
class ClassBalancedLoss final : public Loss {
 public:
  struct Options {
    enum class Base { kSoftmax, kSigmoid, kFocal };
    static constexpr auto kBases = choice<Base>(
        {{"softmax", Base::kSoftmax}, {"sigmoid", Base::kSigmoid}, {"focal", Base::kFocal}});
    enum class Reduction { kBatchMean, kMean, kSum };
    static constexpr auto kReductions = choice<Reduction>({{"batch_mean", Reduction::kBatchMean},
                                                           {"mean", Reduction::kMean},
                                                           {"sum", Reduction::kSum}});

    double beta = 0.9999;
    Base base = Base::kSoftmax;
    double gamma = 1.0;
    Reduction reduction = Reduction::kBatchMean;

    template <class V>
    void visit(V& v) {
      v("beta", beta,
        "Effective-number hyperparameter beta; 0 gives uniform weights, towards 1 inverse "
        "frequency.",
        range(0.0, 1.0, /*hi_open=*/true));
      v("base", base,
        "Base loss: softmax CE, one-vs-all sigmoid CE, or one-vs-all sigmoid focal loss.", kBases);
      v("gamma", gamma, "Focusing parameter of base = focal.", at_least(0.0));
      v("reduction", reduction,
        "batch_mean: sum_i l_i / N (official code); mean: sum_i l_i / sum_i alpha_{y_i} "
        "(PyTorch's weighted mean); sum: sum_i l_i.",
        kReductions);
    }
  };

  ClassBalancedLoss(const Options& options, const LossContext& context);
  at::Tensor forward(const LossInput& input) override;
  at::Tensor class_weights() const override { return weights_.f32(); }
  /// "weights": alpha_c.
  NamedTensors class_vectors() const override { return {{"weights", weights_.f32()}}; }

  /// alpha_c = C ((1-beta)/(1-beta^{n_c})) / sum_k ((1-beta)/(1-beta^{n_k})). Throws
  /// tailor::Error when a count is below 1 (its weight would be infinite).
  static std::vector<double> effective_number_weights(const std::vector<int64_t>& counts,
                                                      double beta);

 private:
  Options options_;
  int64_t num_classes_;
  Constant weights_;  // [C] on the context's device
};

}  // namespace tailor::plugins
