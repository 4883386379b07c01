// host/engine/model.cpp - backbone + head, both plugins.
#include "engine/model.hpp"

#include <algorithm>
#include <map>

namespace tailor::host {

Model::Model(BackbonePlugin& backbone, HeadPlugin& head)
    : backbone_(backbone), feature_dim_(backbone.feature_dim()), head_(head) {
  TAILOR_CHECK(feature_dim_ > 0, "backbone '", backbone.name(), "' reports feature_dim ",
               feature_dim_, "; it must be positive");
}

Model::Output Model::forward(const at::Tensor& inputs) {
  Output out;
  out.features = backbone_.forward(inputs);
  if (!head_.multi_expert()) {
    TAILOR_CHECK(out.features.dim() == 2 && out.features.size(1) == feature_dim_, "backbone '",
                 backbone_.name(), "' returned features of shape ", out.features.sizes(),
                 ", expected [N, ", feature_dim_, "]");
    out.logits = head_.forward(out.features);
    return out;
  }
  // Multi-expert: [K, N, D] features (a single-expert backbone's [N, D] is expert 0 of 1).
  const int64_t k = backbone_.num_experts();
  if (k == 1 && out.features.dim() == 2) out.features = out.features.unsqueeze(0);
  TAILOR_CHECK(
      out.features.dim() == 3 && out.features.size(0) == k && out.features.size(2) == feature_dim_,
      "backbone '", backbone_.name(), "' returned features of shape ", out.features.sizes(),
      ", expected [", k, ", N, ", feature_dim_, "] for its ", k, " experts");
  out.expert_logits = head_.forward(out.features);
  out.logits = head_.aggregate(out.expert_logits);
  return out;
}

Model::Output Model::forward_functional(const at::Tensor& inputs, const NamedTensors& params) {
  TAILOR_CHECK(!head_.multi_expert(), "head '", head_.name(),
               "' is a multi-expert head, which has no functional forward (the meta-learning "
               "look-ahead); use a single-expert backbone and head with a meta-learned loss");
  NamedTensors backbone_params, head_params;
  for (const auto& [name, t] : params) {
    if (name.rfind("backbone.", 0) == 0)
      backbone_params.emplace_back(name.substr(9), t);
    else if (name.rfind("head.", 0) == 0)
      head_params.emplace_back(name.substr(5), t);
  }
  Output out;
  out.features = backbone_params.empty() ? backbone_.forward(inputs)
                                         : backbone_.forward_functional(inputs, backbone_params);
  out.logits = head_params.empty() ? head_.forward(out.features)
                                   : head_.forward_functional(out.features, head_params);
  return out;
}

void Model::train(bool on, bool backbone_frozen) {
  backbone_.module().train(on && !backbone_frozen);
  head_.module().train(on);
}

namespace {

bool matches(const std::string& name, const std::string& part) {
  if (!part.empty() && part.back() == '.') return name.rfind(part, 0) == 0;
  return name == part || name.rfind(part + ".", 0) == 0;
}

}  // namespace

bool Model::freeze(const std::vector<std::string>& parts) {
  const auto params = named_parameters();
  for (const auto& part : parts) {
    bool any = false;
    for (const auto& [name, p] : params) any = any || matches(name, part);
    if (!any) {
      std::string names;
      for (size_t i = 0; i < params.size() && i < 8; ++i) names += " " + params[i].first;
      throw Error("freezes '" + part +
                  "', which matches no parameter; use backbone, head, or a "
                  "prefix of a parameter name, e.g.:" +
                  names + " ...");
    }
  }
  for (auto& [name, p] : params) {
    bool frozen = false;
    for (const auto& part : parts) frozen = frozen || matches(name, part);
    p.set_requires_grad(!frozen);
  }
  return std::find(parts.begin(), parts.end(), "backbone") != parts.end();
}

void Model::to(const c10::Device& device) {
  backbone_.module().to(device);
  head_.module().to(device);
}

NamedTensors Model::named_parameters() const {
  NamedTensors out;
  for (const auto& p : backbone_.module().named_parameters())
    out.emplace_back("backbone." + p.key(), p.value());
  for (const auto& p : head_.module().named_parameters())
    out.emplace_back("head." + p.key(), p.value());
  return out;
}

NamedTensors Model::named_buffers() const {
  NamedTensors out;
  for (const auto& b : backbone_.module().named_buffers())
    out.emplace_back("backbone." + b.key(), b.value());
  for (const auto& b : head_.module().named_buffers())
    out.emplace_back("head." + b.key(), b.value());
  return out;
}

NamedTensors Model::state() const {
  NamedTensors out = named_parameters();
  for (auto& b : named_buffers()) out.push_back(std::move(b));
  return out;
}

void Model::load_state(const NamedTensors& state) {
  std::map<std::string, at::Tensor> given(state.begin(), state.end());
  torch::NoGradGuard no_grad;
  for (auto& [name, t] : this->state()) {
    auto it = given.find(name);
    TAILOR_CHECK(it != given.end(), "checkpoint has no tensor '", name,
                 "'; it was written by a different model configuration");
    TAILOR_CHECK(it->second.sizes() == t.sizes(), "checkpoint tensor '", name, "' has shape ",
                 it->second.sizes(), ", the model expects ", t.sizes());
    t.copy_(it->second);
  }
}

}  // namespace tailor::host
