// host/engine/model.hpp - a backbone plugin plus a head plugin (one or K experts).
#pragma once

#include "plugins/instances.hpp"

#include <string>
#include <vector>

namespace tailor::host {

/// features = backbone(x); logits = head(features). Parameter and buffer names are
/// "backbone.<name>" and "head.<name>".
class Model {
 public:
  Model(BackbonePlugin& backbone, HeadPlugin& head);

  /// For a multi-expert head, features are [K, N, D], expert_logits [K, N, C] and logits the
  /// head's aggregate [N, C]; otherwise features [N, D], logits [N, C], no expert_logits.
  struct Output {
    at::Tensor features;
    at::Tensor logits;
    at::Tensor expert_logits;
  };
  Output forward(const at::Tensor& inputs);
  /// forward() with parameters substituted by full name; backbone names need the
  /// backbone's functional forward.
  Output forward_functional(const at::Tensor& inputs, const NamedTensors& params);

  /// Training mode; a frozen backbone stays in evaluation mode (its BatchNorm statistics
  /// do not move).
  void train(bool on, bool backbone_frozen = false);
  /// Makes the parameters named by `parts` untrainable and every other one trainable. A part
  /// names whole dotted components: "backbone", "head", "head.weight", or a prefix ending in
  /// '.' such as "backbone.layer1.". Returns whether the whole backbone is frozen. Throws
  /// tailor::Error for a part that matches no parameter, listing some names.
  bool freeze(const std::vector<std::string>& parts);
  void to(const c10::Device& device);
  HeadPlugin& head() { return head_; }
  BackbonePlugin& backbone() { return backbone_; }

  NamedTensors named_parameters() const;
  NamedTensors named_buffers() const;
  /// Parameters and buffers, for checkpoints.
  NamedTensors state() const;
  /// Copies `state` into the model; every name must exist with the same shape.
  void load_state(const NamedTensors& state);
  int64_t feature_dim() const { return feature_dim_; }

 private:
  BackbonePlugin& backbone_;
  int64_t feature_dim_;
  HeadPlugin& head_;
};

}  // namespace tailor::host
