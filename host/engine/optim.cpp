// host/engine/optim.cpp - SGD/Adam/AdamW with decay exclusions; epoch schedules.
#include "engine/optim.hpp"

#include "engine/checkpoint.hpp"

#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include <spdlog/spdlog.h>

#include <cmath>

namespace tailor::host {

double lr_factor(const OptimizerOptions& optimizer, int64_t batch_size) {
  const double ratio =
      static_cast<double>(batch_size) / static_cast<double>(optimizer.lr_base_batch);
  if (optimizer.lr_scaling == OptimizerOptions::LrScaling::kLinear) return ratio;
  if (optimizer.lr_scaling == OptimizerOptions::LrScaling::kSqrt) return std::sqrt(ratio);
  return 1.0;
}

double scheduled_lr(const ScheduleOptions& s, double base_lr, int64_t epoch, int64_t stage_epochs) {
  if (s.warmup_epochs > 0 && epoch < s.warmup_epochs) {
    const double t = static_cast<double>(epoch + 1) / static_cast<double>(s.warmup_epochs);
    return s.warmup_start > 0 ? base_lr * (s.warmup_start + (1.0 - s.warmup_start) * t)
                              : base_lr * t;
  }
  if (s.type == ScheduleOptions::Type::kCosine) {
    const double span = static_cast<double>(std::max<int64_t>(1, stage_epochs - s.warmup_epochs));
    const double t = static_cast<double>(epoch - s.warmup_epochs) / span;
    return s.min_lr + 0.5 * (base_lr - s.min_lr) * (1.0 + std::cos(M_PI * t));
  }
  if (s.type == ScheduleOptions::Type::kMultistep) {
    double lr = base_lr;
    for (int64_t m : s.milestones)
      if (epoch >= m) lr *= s.gamma;
    return lr;
  }
  if (s.type == ScheduleOptions::Type::kStep)
    return base_lr * std::pow(s.gamma, static_cast<double>(epoch / s.step_size));
  return base_lr;
}

bool excluded_from_decay(const std::string& name, const at::Tensor& p,
                         const std::vector<std::string>& no_decay) {
  for (const auto& rule : no_decay) {
    if (rule == name) return true;
    if (rule == "bias" && name.size() >= 5 && name.compare(name.size() - 5, 5, ".bias") == 0)
      return true;
    if (rule == "norm" && p.dim() == 1) return true;
    if (!rule.empty() && rule.back() == '.' && name.rfind(rule, 0) == 0) return true;
  }
  return false;
}

Optimizer::Optimizer(const OptimizerOptions& o, const NamedTensors& model, const NamedTensors& loss)
    : options_(o) {
  std::vector<at::Tensor> decay, plain, extra;
  std::vector<std::string> decay_names, plain_names, extra_names;
  for (const auto& [name, p] : model) {
    if (!p.requires_grad()) continue;
    const bool excluded = o.weight_decay > 0 && excluded_from_decay(name, p, o.no_decay);
    (excluded ? plain : decay).push_back(p);
    (excluded ? plain_names : decay_names).push_back(name);
  }
  for (const auto& [name, p] : loss) {
    extra.push_back(p);
    extra_names.push_back("loss." + name);
  }
  const double loss_scale = o.loss_lr > 0 ? o.loss_lr / o.lr : 1.0;
  std::vector<torch::optim::OptimizerParamGroup> groups;
  auto add = [&](std::vector<at::Tensor> params, double wd, double scale,
                 std::vector<std::string>& names) {
    if (params.empty()) return;
    std::unique_ptr<torch::optim::OptimizerOptions> options;
    if (o.type == OptimizerOptions::Type::kSgd)
      options = std::make_unique<torch::optim::SGDOptions>(torch::optim::SGDOptions(o.lr * scale)
                                                               .momentum(o.momentum)
                                                               .nesterov(o.nesterov)
                                                               .weight_decay(wd));
    else if (o.type == OptimizerOptions::Type::kAdam)
      options =
          std::make_unique<torch::optim::AdamOptions>(torch::optim::AdamOptions(o.lr * scale)
                                                          .betas({o.betas.at(0), o.betas.at(1)})
                                                          .eps(o.eps)
                                                          .weight_decay(wd));
    else
      options =
          std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(o.lr * scale)
                                                           .betas({o.betas.at(0), o.betas.at(1)})
                                                           .eps(o.eps)
                                                           .weight_decay(wd));
    groups.emplace_back(std::move(params), std::move(options));
    group_scale_.push_back(scale);
    names_.insert(names_.end(), names.begin(), names.end());
  };
  TAILOR_CHECK(o.betas.size() == 2,
               "[optimizer] betas needs two values, e.g. betas = [0.9, 0.999]");
  add(decay, o.weight_decay, 1.0, decay_names);
  add(plain, 0.0, 1.0, plain_names);
  add(extra, 0.0, loss_scale, extra_names);
  TAILOR_CHECK(!groups.empty(),
               "nothing to optimise: every parameter is frozen; remove a part "
               "from the stage's freeze list");
  if (o.type == OptimizerOptions::Type::kSgd)
    impl_ = std::make_unique<torch::optim::SGD>(groups, torch::optim::SGDOptions(o.lr));
  else if (o.type == OptimizerOptions::Type::kAdam)
    impl_ = std::make_unique<torch::optim::Adam>(groups, torch::optim::AdamOptions(o.lr));
  else
    impl_ = std::make_unique<torch::optim::AdamW>(groups, torch::optim::AdamWOptions(o.lr));
}

void Optimizer::set_lr(double lr) {
  auto& groups = impl_->param_groups();
  for (size_t i = 0; i < groups.size(); ++i) groups[i].options().set_lr(lr * group_scale_[i]);
}

void Optimizer::zero_grad() {
  impl_->zero_grad();
}
void Optimizer::step() {
  impl_->step();
}

std::unique_ptr<Optimizer> stage_optimizer(const OptimizerOptions& options,
                                           const NamedTensors& model, const NamedTensors& loss,
                                           Optimizer* previous, bool reset,
                                           const std::string& stage) {
  auto next = std::make_unique<Optimizer>(options, model, loss);
  if (previous != nullptr && !reset && previous->names() == next->names() &&
      previous->options().type == options.type) {
    load_optimizer_state(*next, optimizer_state(*previous));
    spdlog::info("stage '{}': optimizer state carried over", stage);
  }
  return next;
}

}  // namespace tailor::host
