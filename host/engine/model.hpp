// host/engine/model.hpp - a backbone plugin plus the host's classifier head.
#pragma once

#include "plugins/instances.hpp"

#include <torch/nn/modules/linear.h>

namespace tailor::host {

/// [head]
struct HeadOptions {
  bool bias = true;

  template <class V>
  void visit(V& v) {
    v("bias", bias, "Learn a bias in the linear classifier.");
  }
};

/// features = backbone(x); logits = head(features).
class Model {
 public:
  Model(BackbonePlugin& backbone, int64_t num_classes, const HeadOptions& options);

  struct Output {
    at::Tensor features;
    at::Tensor logits;
  };
  Output forward(const at::Tensor& inputs);

  void train(bool on);
  void to(const c10::Device& device);
  /// "backbone.<name>" and "head.<name>" parameters, in a fixed order.
  NamedTensors named_parameters() const;
  /// Parameters and buffers (BN statistics), for checkpoints.
  NamedTensors state() const;
  int64_t feature_dim() const { return feature_dim_; }

 private:
  BackbonePlugin& backbone_;
  int64_t feature_dim_;
  torch::nn::Linear head_{nullptr};
};

}  // namespace tailor::host
