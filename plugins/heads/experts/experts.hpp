// experts: K independent classifiers, one per expert of a multi-expert backbone (RIDE, SADE).
#pragma once

#include <ATen/Tensor.h>

#include <tailor/components.hpp>
#include <tailor/options.hpp>

#include <cstdint>
#include <memory>

namespace tailor::plugins {

class ExpertsHead final : public Head {
 public:
  /// The logits are scaled cosine similarities with the default (and RIDE's and SADE's)
  /// normalize = true. The flag is a compile-time constant: normalize = false does not clear
  /// it (README, "Normed logits").
  static constexpr bool kNormedLogits = true;
  static constexpr bool kMultiExpert = true;

  /// How aggregate() combines the experts' logits [K, N, C] into the model's [N, C].
  enum class Aggregation {
    kMean,     ///< (1/K) sum_k z_k: RIDE's and SADE's output
    kWeights,  ///< sum_k softmax(expert_weights)_k z_k: SADE's test-time aggregation
  };

  struct Options {
    static constexpr auto kAggregations = tailor::choice<Aggregation>(
        {{"mean", Aggregation::kMean}, {"weights", Aggregation::kWeights}});

    bool normalize = true;
    double scale = 30.0;
    Aggregation aggregation = Aggregation::kMean;

    template <class V>
    void visit(V& v) {
      v("normalize", normalize,
        "true: cosine classifiers s <f/|f|, w_c/|w_c|> without bias (RIDE's and SADE's "
        "NormedLinear); false: linear classifiers W f + b (torch.nn.Linear).");
      v("scale", scale, "Logit scale s of the cosine classifiers (unused when normalize = false).",
        greater_than(0));
      v("aggregation", aggregation,
        "How the experts' logits make the model's: mean; weights: softmax(w)-weighted sum with "
        "a learned w [K] (parameter expert_weights, initialised to 1/K: SADE's test-time "
        "aggregation).",
        kAggregations);
    }
  };

  ExpertsHead(const Options& options, const HeadContext& context);
  torch::nn::Module& module() override { return *module_; }
  /// Features [K, N, D] -> logits [K, N, C]; expert k's classifier is weight[k] (and bias[k]).
  at::Tensor forward(const at::Tensor& features) override;
  /// Draws weight (and bias) again; expert_weights (aggregation = weights) goes back to 1/K.
  void reset_parameters() override;
  /// Logits [K, N, C] -> [N, C] by the `aggregation` option; with aggregation = weights,
  /// differentiable w.r.t. expert_weights.
  at::Tensor aggregate(const at::Tensor& expert_logits) override;

 private:
  Options options_;
  int64_t num_experts_, num_classes_, in_features_;
  std::shared_ptr<torch::nn::Module> module_;
  at::Tensor weight_, bias_;
  at::Tensor expert_weights_;  // [K], aggregation = weights only
};

}  // namespace tailor::plugins
