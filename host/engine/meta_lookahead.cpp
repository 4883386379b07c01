// host/engine/meta_lookahead.cpp - balanced meta batches and the look-ahead step.
#include "engine/meta_lookahead.hpp"

#include "data/batch_loader.hpp"

#include <ATen/ATen.h>
#include <torch/autograd.h>

#include <random>

namespace tailor::host {
namespace {

// Class-balanced draw of `n` positions from `by_class` (classes uniform, members uniform).
std::vector<int64_t> balanced_batch(const std::vector<std::vector<int64_t>>& by_class, int64_t n,
                                    std::mt19937_64& rng) {
  std::vector<size_t> present;
  for (size_t c = 0; c < by_class.size(); ++c)
    if (!by_class[c].empty()) present.push_back(c);
  std::vector<int64_t> out;
  for (int64_t i = 0; i < n; ++i) {
    const auto& members = by_class[present[rng() % present.size()]];
    out.push_back(members[rng() % members.size()]);
  }
  return out;
}

NamedTensors without_prefix(const NamedTensors& params, size_t prefix) {
  NamedTensors out;
  for (const auto& [name, t] : params) out.emplace_back(name.substr(prefix), t);
  return out;
}

}  // namespace

MetaLookahead::MetaLookahead(Model& model, const DatasetPlugin& dataset, const MetaOptions& options,
                             c10::Device device, uint64_t seed)
    : model_(model), dataset_(dataset), options_(options), device_(device), seed_(seed) {}

void MetaLookahead::index(const std::vector<int64_t>& train_labels) {
  by_class_.assign(static_cast<size_t>(dataset_.info().num_classes), {});
  if (options_.split == MetaOptions::Split::kVal) {
    const at::Tensor labels = dataset_.labels(Split::kVal).to(at::kLong).contiguous();
    for (int64_t i = 0; i < labels.numel(); ++i)
      by_class_[labels.data_ptr<int64_t>()[i]].push_back(i);
  } else {
    for (size_t i = 0; i < train_labels.size(); ++i)
      by_class_[train_labels[i]].push_back(static_cast<int64_t>(i));
  }
}

// Scope "full" runs before the real forward (its train-mode look-ahead moves BatchNorm
// statistics, which are restored before the real forward saves them for backward); scope
// "head" runs after it, on its detached features, and touches no buffer.
void MetaLookahead::step(LossPlugin& loss, const at::Tensor& features, const at::Tensor& x,
                         const at::Tensor& y, double lr, const Clock& clock, int64_t completed,
                         bool backbone_frozen) {
  std::mt19937_64 rng(mix_seed(mix_seed(seed_, 0x6d657461),
                               static_cast<uint64_t>(clock.global_step + completed * 1000003)));
  const auto indices = balanced_batch(by_class_, options_.batch_size, rng);
  BatchRequest request;
  request.split = options_.split == MetaOptions::Split::kVal ? Split::kVal : Split::kTrain;
  request.augment = false;
  request.indices = indices.data();
  request.count = indices.size();
  request.seed = rng();
  const Batch mb = dataset_.batch(request);
  const at::Tensor xm = mb.inputs.to(device_), ym = mb.targets.to(device_);

  NamedTensors fast;  // detached copies: the look-ahead must not touch the real gradients
  for (const auto& [name, p] : model_.named_parameters()) {
    if (!p.requires_grad()) continue;
    if (!full() && name.rfind("head.", 0) != 0) continue;
    fast.emplace_back(name, p.detach().clone().set_requires_grad(true));
  }
  // The look-ahead's BatchNorm updates are thrown away.
  NamedTensors buffers;
  if (full())
    for (const auto& [name, b] : model_.named_buffers()) buffers.emplace_back(name, b.clone());

  LossInput in;
  in.targets = y;
  in.clock = clock;
  at::Tensor meta_features;
  if (!full()) {
    in.features = features.detach();
    in.logits = model_.head().forward_functional(in.features, without_prefix(fast, 5));
    torch::NoGradGuard no_grad;
    if (options_.bn == MetaOptions::Bn::kEval) {
      model_.train(false);
      meta_features = model_.forward(xm).features;
      model_.train(true, backbone_frozen);
    } else {
      meta_features = model_.forward(xm).features;  // the model is in training mode here
    }
  } else {
    const auto o = model_.forward_functional(x, fast);
    in.logits = o.logits;
    in.features = o.features;
  }
  const at::Tensor inner = loss.forward(in);
  std::vector<at::Tensor> params;
  for (const auto& [name, t] : fast) params.push_back(t);
  const auto grads = torch::autograd::grad({inner}, params, /*grad_outputs=*/{},
                                           /*retain_graph=*/true, /*create_graph=*/true,
                                           /*allow_unused=*/true);
  NamedTensors stepped;
  for (size_t i = 0; i < params.size(); ++i)
    stepped.emplace_back(fast[i].first, grads[i].defined() ? params[i] - lr * grads[i] : params[i]);
  const at::Tensor meta_logits =
      full() ? model_.forward_functional(xm, stepped).logits
             : model_.head().forward_functional(meta_features, without_prefix(stepped, 5));
  loss.meta_update(loss.meta_loss(meta_logits, ym), clock);
  if (buffers.empty()) return;
  torch::NoGradGuard no_grad;
  auto live = model_.named_buffers();
  for (size_t i = 0; i < live.size(); ++i) live[i].second.copy_(buffers[i].second);
}

}  // namespace tailor::host
