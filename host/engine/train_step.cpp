// host/engine/train_step.cpp - the training step, eager and graphed.
#include "engine/train_step.hpp"

#include <torch/nn/utils/clip_grad.h>

#include <spdlog/spdlog.h>

namespace tailor::host {

TrainStep::TrainStep(Model& model, c10::Device device, Collective* dist)
    : model_(model), device_(device), dist_(dist) {}
TrainStep::~TrainStep() = default;

void TrainStep::begin_epoch(const StagePlan& plan, Optimizer& optimizer, MetaLookahead* meta,
                            GradSync* sync) {
  plan_ = &plan;
  optimizer_ = &optimizer;
  meta_ = meta;
  sync_ = sync;
  const uint32_t needs = plan.loss->needs();
  needs_features_ = (needs & TAILOR_LOSS_NEEDS_FEATURES) != 0;
  needs_indices_ = (needs & TAILOR_LOSS_NEEDS_INDICES) != 0;
  needs_experts_ = (needs & TAILOR_LOSS_NEEDS_EXPERTS) != 0;
  bf16_ = plan.train.precision == TrainOptions::Precision::kBf16;
  if (!plan.train.cuda_graph) {
    graph_.reset();
    return;
  }
  std::string why;
  if (!device_.is_cuda() || !cuda_graphs_built())
    why = "the device is not a CUDA GPU";
  else if (meta != nullptr || needs_indices_)
    why = "the loss needs a meta step or sample indices";
  else if (plan.batch_mix != nullptr)
    why = "a batch mix changes the batch on the host side";
  else if (plan.train.grad_clip > 0)
    why = "grad_clip reads the gradient norm on the host";
  else if (sync != nullptr || plan.train.accumulate > 1)
    why = "the step synchronises gradients across ranks or accumulates micro-batches";
  if (!why.empty()) {
    if (graph_warned_ != plan.index) spdlog::warn("[train] cuda_graph ignored: {}", why);
    graph_warned_ = plan.index;
    graph_.reset();
    return;
  }
  if (graph_ && graph_stage_ == plan.index) {
    graph_->invalidate();
    return;
  }
  graph_ = std::make_unique<GraphedStep>([this](const at::Tensor& x, const at::Tensor& y) {
    optimizer_->zero_grad();
    const at::Tensor value = compute_loss(x, y, {}, graph_context_);
    update(value);
    return value.detach();
  });
  graph_stage_ = plan.index;
}

at::Tensor TrainStep::compute_loss(const at::Tensor& x, const at::Tensor& y,
                                   const at::Tensor& indices, const StepContext& context) {
  LossPlugin& loss = *plan_->loss;
  // The look-ahead sees the global batch on every rank (gathered), as one process sees it.
  auto global = [this](const at::Tensor& t) {
    return dist_ != nullptr ? dist_->all_gather_cat(t) : t;
  };
  if (meta_ != nullptr && meta_->full())
    meta_->step(loss, {}, global(x), global(y), context.lr, context.clock, context.completed,
                context.backbone_frozen);
  AutocastGuard autocast(device_, bf16_);
  const auto out = model_.forward(x);
  if (meta_ != nullptr && !meta_->full()) {
    const at::Tensor features = dist_ != nullptr ? global(out.features.detach()) : out.features;
    meta_->step(loss, features, x, global(y), context.lr, context.clock, context.completed,
                context.backbone_frozen);
  }
  LossInput input;
  input.logits = out.logits;
  input.targets = y;
  if (needs_features_) input.features = out.features;
  if (needs_indices_) input.indices = indices;
  input.clock = context.clock;
  if (context.targets_b.defined()) {
    input.targets_b = context.targets_b;
    input.mix_weight = context.mix_weight;
  }
  if (needs_experts_) input.expert_logits = out.expert_logits;
  return loss.forward(input);
}

void TrainStep::update(const at::Tensor& value) {
  value.backward();
  clip_and_step();
}

void TrainStep::clip_and_step() {
  if (plan_->train.grad_clip > 0) {
    std::vector<at::Tensor> params;
    for (const auto& [name, p] : model_.named_parameters())
      if (p.requires_grad()) params.push_back(p);
    torch::nn::utils::clip_grad_norm_(params, plan_->train.grad_clip);
  }
  optimizer_->step();
}

at::Tensor TrainStep::run(const at::Tensor& x, const at::Tensor& y, const at::Tensor& indices,
                          const StepContext& context,
                          const std::function<void(const at::Tensor&)>& check) {
  if (graph_) {
    graph_context_ = context;
    return graph_->step(x, y);
  }
  if (sync_ != nullptr || plan_->train.accumulate > 1 || context.share != 1.0)
    return run_synchronised(x, y, indices, context, check);
  const at::Tensor value = compute_loss(x, y, indices, context);
  check(value);
  optimizer_->zero_grad();
  update(value);
  return value;
}

at::Tensor TrainStep::run_synchronised(const at::Tensor& x, const at::Tensor& y,
                                       const at::Tensor& indices, const StepContext& context,
                                       const std::function<void(const at::Tensor&)>& check) {
  const int64_t n = x.size(0);
  const int64_t parts = std::min<int64_t>(plan_->train.accumulate, n);
  optimizer_->zero_grad();
  if (sync_ != nullptr) sync_->broadcast_buffers();
  at::Tensor total = at::zeros({}, at::TensorOptions().dtype(at::kDouble).device(device_));
  for (int64_t k = 0, begin = 0; k < parts; ++k) {
    const int64_t count = n / parts + (k < n % parts ? 1 : 0);
    const bool last = k + 1 == parts;
    // Only the last micro-batch's backward synchronises; the others accumulate locally.
    if (sync_ != nullptr && last) sync_->prepare_forward();
    StepContext part = context;
    if (context.targets_b.defined()) {
      part.targets_b = context.targets_b.narrow(0, begin, count);
      part.mix_weight = context.mix_weight.narrow(0, begin, count);
    }
    const at::Tensor value =
        compute_loss(x.narrow(0, begin, count), y.narrow(0, begin, count),
                     indices.defined() ? indices.narrow(0, begin, count) : indices, part);
    check(value);
    const at::Tensor scaled = value * (context.share * static_cast<double>(count) / n);
    if (sync_ != nullptr && last) sync_->prepare_backward({scaled});
    scaled.backward();
    total += value.detach().to(at::kDouble) * static_cast<double>(count);
    begin += count;
  }
  clip_and_step();
  return (total / static_cast<double>(n)).to(at::kFloat);
}

int64_t TrainStep::replays() const {
  return graph_ ? graph_->replays() : 0;
}

}  // namespace tailor::host
