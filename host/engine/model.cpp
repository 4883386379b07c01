// host/engine/model.cpp - backbone + linear head.
#include "engine/model.hpp"

#include <torch/nn/init.h>

namespace tailor::host {

Model::Model(BackbonePlugin& backbone, int64_t num_classes, const HeadOptions& options)
    : backbone_(backbone), feature_dim_(backbone.feature_dim()) {
  TAILOR_CHECK(feature_dim_ > 0, "backbone '", backbone.name(), "' reports feature_dim ",
               feature_dim_, "; it must be positive");
  head_ = torch::nn::Linear(torch::nn::LinearOptions(feature_dim_, num_classes).bias(options.bias));
}

Model::Output Model::forward(const at::Tensor& inputs) {
  Output out;
  out.features = backbone_.forward(inputs);
  TAILOR_CHECK(out.features.dim() == 2 && out.features.size(1) == feature_dim_, "backbone '",
               backbone_.name(), "' returned features of shape ", out.features.sizes(),
               ", expected [N, ", feature_dim_, "]");
  out.logits = head_->forward(out.features);
  return out;
}

void Model::train(bool on) {
  backbone_.module().train(on);
  head_->train(on);
}

void Model::to(const c10::Device& device) {
  backbone_.module().to(device);
  head_->to(device);
}

NamedTensors Model::named_parameters() const {
  NamedTensors out;
  for (const auto& p : backbone_.module().named_parameters())
    out.emplace_back("backbone." + p.key(), p.value());
  for (const auto& p : head_->named_parameters()) out.emplace_back("head." + p.key(), p.value());
  return out;
}

NamedTensors Model::state() const {
  NamedTensors out = named_parameters();
  for (const auto& b : backbone_.module().named_buffers())
    out.emplace_back("backbone." + b.key(), b.value());
  for (const auto& b : head_->named_buffers()) out.emplace_back("head." + b.key(), b.value());
  return out;
}

}  // namespace tailor::host
