// host/engine/meta_lookahead.hpp - the differentiable one-step look-ahead of losses that
// learn from a class-balanced meta batch (Difficulty-Net, Meta-Weight-Net style).
#pragma once

#include "config/options.hpp"
#include "engine/model.hpp"
#include "plugins/instances.hpp"

#include <cstdint>
#include <vector>

namespace tailor::host {

/// theta' = theta - lr * grad L_w(theta), with the graph kept, so that the loss on a
/// class-balanced meta batch evaluated at theta' reaches the loss plugin's meta parameters
/// (handed to LossPlugin::meta_update). Scope "head" steps the head on detached features;
/// scope "full" steps every trainable parameter through the backbone's functional forward
/// and restores the BatchNorm buffers the look-ahead moved.
class MetaLookahead {
 public:
  MetaLookahead(Model& model, const DatasetPlugin& dataset, const MetaOptions& options,
                c10::Device device, uint64_t seed);

  /// Indexes the meta split's samples by class (at every stage start of a meta loss).
  void index(const std::vector<int64_t>& train_labels);
  /// One look-ahead for the training batch (x, y). `features` are the real forward's
  /// (scope "head"; ignored for "full", which must run before the real forward). The meta
  /// batch is a pure function of the run seed, `completed` epochs and the clock.
  void step(LossPlugin& loss, const at::Tensor& features, const at::Tensor& x, const at::Tensor& y,
            double lr, const Clock& clock, int64_t completed, bool backbone_frozen);
  bool full() const { return options_.scope == MetaOptions::Scope::kFull; }

 private:
  Model& model_;
  const DatasetPlugin& dataset_;
  MetaOptions options_;
  c10::Device device_;
  uint64_t seed_;
  std::vector<std::vector<int64_t>> by_class_;
};

}  // namespace tailor::host
