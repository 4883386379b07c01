// focal: softmax and one-vs-all sigmoid focal loss (Lin et al., ICCV 2017).
#pragma once

#include <tailor/components.hpp>
#include <tailor/constant.hpp>
#include <tailor/options.hpp>

#include <limits>
#include <vector>

namespace tailor::plugins {

/// Focal loss, per sample i with label y:
///   softmax: l_i = w_y (1 - p_y)^gamma (-log p_y),                 p = softmax(z_i);
///   sigmoid: l_i = w_y sum_c a_c (1 - p^t_c)^gamma (-log p^t_c),   p^t_c = sigmoid(+-z_ic).
/// w are optional class weights (outside the modulator), a Lin's alpha_t (sigmoid form only).
/// weight_mode = official_ldam_drw moves w into the CE as LDAM-DRW's FocalLoss does:
///   l_i = (1 - exp(-w_y CE_i))^gamma w_y CE_i,                       CE_i = -log p_y.
class FocalLoss final : public Loss {
 public:
  struct Options {
    enum class Form { kSoftmax, kSigmoid };
    static constexpr auto kForms =
        choice<Form>({{"softmax", Form::kSoftmax}, {"sigmoid", Form::kSigmoid}});
    enum class Reduction { kBatchMean, kMean, kSum };
    static constexpr auto kReductions = choice<Reduction>({{"batch_mean", Reduction::kBatchMean},
                                                           {"mean", Reduction::kMean},
                                                           {"sum", Reduction::kSum}});
    enum class WeightMode { kOutside, kOfficialLdamDrw };
    static constexpr auto kWeightModes = choice<WeightMode>(
        {{"outside", WeightMode::kOutside}, {"official_ldam_drw", WeightMode::kOfficialLdamDrw}});

    Form form = Form::kSoftmax;
    double gamma = 2.0;
    double alpha = -1.0;                // < 0: no alpha balancing
    std::vector<double> class_weights;  // empty: uniform
    bool detach_modulator = false;
    Reduction reduction = Reduction::kBatchMean;
    WeightMode weight_mode = WeightMode::kOutside;

    template <class V>
    void visit(V& v) {
      v("form", form,
        "softmax: -(1-p_y)^gamma log p_y; sigmoid: one-vs-all binary focal terms summed over "
        "classes (the CB paper's form).",
        kForms);
      v("gamma", gamma, "Focusing parameter gamma; 0 gives CE (softmax) or BCE (sigmoid).",
        at_least(0.0));
      v("alpha", alpha,
        "Sigmoid form only: weight alpha on positive and 1-alpha on negative terms; negative "
        "disables it.",
        range(-std::numeric_limits<double>::infinity(), 1.0));
      v("class_weights", class_weights,
        "Per-class weights w_c multiplying each sample's loss by w_y; empty means uniform.",
        at_least(0.0));
      v("detach_modulator", detach_modulator,
        "Treat the modulating factor (1-p_t)^gamma as a constant in the backward pass.");
      v("reduction", reduction,
        "batch_mean: sum_i l_i / N; mean: sum_i l_i / sum_i w_y (PyTorch's weighted mean); "
        "sum: sum_i l_i.",
        kReductions);
      v("weight_mode", weight_mode,
        "Softmax form with class_weights: outside: w_y (1-p_y)^gamma (-log p_y); "
        "official_ldam_drw: (1-e^{-w_y CE})^gamma w_y CE, LDAM-DRW's FocalLoss(weight=w).",
        kWeightModes);
    }
  };

  FocalLoss(const Options& options, const LossContext& context);
  at::Tensor forward(const LossInput& input) override;
  at::Tensor class_weights() const override { return weights_.f32(); }
  /// "weights": the configured w_c, when given.
  NamedTensors class_vectors() const override;

 private:
  Options options_;
  int64_t num_classes_;
  Constant weights_;  // [C] or undefined
};

}  // namespace tailor::plugins
