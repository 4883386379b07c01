// host/engine/head.hpp - the classifier heads built into the host.
#pragma once

#include "config/options.hpp"

#include <tailor/components.hpp>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

namespace tailor::host {

/// logits = head(features). Types (HeadOptions::type):
///  - linear:   W f + b
///  - cosine:   s * <f/|f|, w_c/|w_c|>  (no bias; LDAM's NormedLinear when s = 1)
///  - tau_norm: W f + b in training; in evaluation w_c / |w_c|^tau (Kang et al. 2020)
///  - lws:      g_c * (W f + b) with a learnable per-class scale g (init 1)
class HeadImpl : public torch::nn::Module {
 public:
  HeadImpl(int64_t in_features, int64_t num_classes, const HeadOptions& options);

  at::Tensor forward(const at::Tensor& features);
  /// forward() with parameters taken from `params` by name ("weight", "bias", "scales"),
  /// differentiable w.r.t. them (meta-learning look-ahead).
  at::Tensor forward_with(const at::Tensor& features, const NamedTensors& params);
  /// Re-initialises every parameter (cRT's classifier re-training).
  void reset_parameters();
  /// tau_norm: the exponent used in evaluation.
  void set_tau(double tau) { options_.tau = tau; }
  const HeadOptions& options() const { return options_; }

 private:
  at::Tensor logits(const at::Tensor& f, const at::Tensor& w, const at::Tensor& b,
                    const at::Tensor& g) const;
  HeadOptions options_;
  int64_t num_classes_;
  at::Tensor weight_, bias_, scales_;
};
TORCH_MODULE(Head);

}  // namespace tailor::host
