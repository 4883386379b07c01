// difficulty_net: Difficulty-Net meta-learned class weights (Sinha & Ohashi, WACV 2023).
#include "difficulty_net.hpp"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <cmath>

namespace tailor::plugins {

namespace {

const at::Tensor* find(const NamedTensors& state, const std::string& name) {
  for (const auto& [key, tensor] : state)
    if (key == name) return &tensor;
  return nullptr;
}

}  // namespace

DifficultyNetLoss::DifficultyNetLoss(const Options& options, const LossContext& context)
    : options_(options), num_classes_(context.num_classes), device_(context.device) {
  // Options built in code skip the schema's constraints: check them here too.
  TAILOR_CHECK(options.hidden >= 1, "[loss] difficulty_net: hidden must be >= 1, got ",
               options.hidden);
  TAILOR_CHECK(options.lambda >= 0.0, "[loss] difficulty_net: lambda must be >= 0, got ",
               options.lambda, "; the paper uses 0.3");
  TAILOR_CHECK(options.lr > 0.0, "[loss] difficulty_net: lr must be > 0, got ", options.lr);
  TAILOR_CHECK(options.weight_decay >= 0.0,
               "[loss] difficulty_net: weight_decay must be >= 0, got ", options.weight_decay);
  TAILOR_CHECK(options.betas.size() == 2 && options.betas[0] >= 0.0 && options.betas[0] < 1.0 &&
                   options.betas[1] >= 0.0 && options.betas[1] < 1.0,
               "[loss] difficulty_net: betas needs two values in [0, 1), e.g. [0.9, 0.999]");
  TAILOR_CHECK(options.adam_eps > 0.0, "[loss] difficulty_net: adam_eps must be > 0");
  TAILOR_CHECK(num_classes_ > 0, "difficulty_net: the dataset reports no classes");
  if (options.base == Options::Base::kBalancedSoftmax) {
    TAILOR_CHECK(static_cast<int64_t>(context.class_counts.size()) == num_classes_,
                 "difficulty_net: got ", context.class_counts.size(), " class counts for ",
                 num_classes_, " classes");
    std::vector<double> log_n(context.class_counts.size());
    for (size_t c = 0; c < log_n.size(); ++c) {
      TAILOR_CHECK(context.class_counts[c] >= 1,
                   "[loss] difficulty_net: base = "
                   "\"balanced_softmax\" adds log n_c, but class ",
                   c, " has ", context.class_counts[c], " training samples; use base = \"ce\"");
      log_n[c] = std::log(static_cast<double>(context.class_counts[c]));
    }
    log_counts_ = Constant(log_n, device_);
  }

  // nn.Linear's initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), from the global generator
  // the host seeds with the experiment seed.
  const int64_t widths[4] = {num_classes_, options.hidden, options.hidden, num_classes_};
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  for (int64_t layer = 0; layer < 3; ++layer) {
    const int64_t fan_in = widths[layer], fan_out = widths[layer + 1];
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    const std::string name = "phi." + std::to_string(layer);
    phi_.emplace_back(name + ".weight", at::empty({fan_out, fan_in}, f32).uniform_(-bound, bound));
    if (options.bias)
      phi_.emplace_back(name + ".bias", at::empty({fan_out}, f32).uniform_(-bound, bound));
  }
  for (auto& [name, p] : phi_) {
    p = p.to(device_).set_requires_grad(true);
    exp_avg_.push_back(at::zeros_like(p).detach());
    exp_avg_sq_.push_back(at::zeros_like(p).detach());
  }
  accuracy_ = at::zeros({num_classes_}, at::kDouble);
}

at::Tensor DifficultyNetLoss::difficulties(at::ScalarType dtype) const {
  at::Tensor h = accuracy_.to(at::TensorOptions().dtype(dtype).device(device_)).unsqueeze(0);
  size_t i = 0;
  for (int64_t layer = 0; layer < 3; ++layer) {
    // A no-op for float32; a float64 copy on phi's graph otherwise.
    const at::Tensor w = phi_[i++].second.to(dtype);
    const at::Tensor b = options_.bias ? phi_[i++].second.to(dtype) : at::Tensor();
    h = at::linear(h, w, b);
    h = layer < 2 ? at::relu(h) : at::sigmoid(h);
  }
  return h.squeeze(0);
}

at::Tensor DifficultyNetLoss::weights(at::ScalarType dtype) const {
  const at::Tensor d = difficulties(dtype);
  return static_cast<double>(num_classes_) * d / d.sum();
}

at::Tensor DifficultyNetLoss::driver_loss(at::ScalarType dtype) const {
  const double total = accuracy_.sum().item<double>();
  const at::Tensor target =
      (1.0 - accuracy_ / (total + 1e-12)).to(at::TensorOptions().dtype(dtype).device(device_));
  return (difficulties(dtype) - target).pow(2).mean();
}

at::Tensor DifficultyNetLoss::class_weights() const {
  torch::NoGradGuard no_grad;
  return weights();
}

at::Tensor DifficultyNetLoss::forward(const LossInput& in) {
  const at::Tensor& z = in.logits;
  TAILOR_CHECK(z.dim() == 2 && z.size(1) == num_classes_, "difficulty_net: logits must be [N, ",
               num_classes_, "], got ", z.sizes());
  // The host calls forward twice per step: inside the look-ahead (before meta_update), then
  // for the real step (after it). The real step's weights are constants (methods.md 4.3.5),
  // and so are the look-ahead's in the official code's behaviour.
  const bool real_step = real_step_next_;
  real_step_next_ = false;
  const at::ScalarType dtype = z.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  at::Tensor w;
  if (real_step || options_.detach_weights_in_virtual_step) {
    torch::NoGradGuard no_grad;
    w = weights(dtype);
  } else {
    w = weights(dtype);
  }
  const at::Tensor nll =
      -at::log_softmax(base_logits(z), 1).gather(1, in.targets.unsqueeze(1)).squeeze(1);
  return (w.to(z.dtype()).index_select(0, in.targets) * nll).mean();
}

at::Tensor DifficultyNetLoss::base_logits(const at::Tensor& z) const {
  return log_counts_.defined() ? z + log_counts_.like(z) : z;
}

at::Tensor DifficultyNetLoss::meta_loss(const at::Tensor& z, const at::Tensor& targets) const {
  return at::cross_entropy_loss(options_.meta_loss == Options::MetaLoss::kBase ? base_logits(z) : z,
                                targets);
}

void DifficultyNetLoss::on_validation(const ClassStats& stats) {
  if (stats.split != Split::kVal) return;  // never learn from the test split
  TAILOR_CHECK(static_cast<int64_t>(stats.accuracy.size()) == num_classes_, "difficulty_net: got ",
               stats.accuracy.size(), " per-class accuracies for ", num_classes_, " classes");
  std::vector<double> a(stats.accuracy.size());
  for (size_t c = 0; c < a.size(); ++c) {
    const double v = stats.accuracy[c];
    TAILOR_CHECK(std::isnan(v) || (v >= 0.0 && v <= 1.0),
                 "difficulty_net: validation accuracy of class ", c, " is ", v, ", outside [0, 1]");
    a[c] = std::isnan(v) ? 0.0 : v;  // a class without val samples: no evidence of skill
  }
  accuracy_ = at::tensor(a, at::kDouble);
}

void DifficultyNetLoss::meta_update(const at::Tensor& meta_loss, const Clock& /*clock*/) {
  TAILOR_CHECK(meta_loss.defined() && meta_loss.numel() == 1,
               "difficulty_net: meta_update needs a scalar meta loss");
  std::vector<at::Tensor> params;
  for (auto& [name, p] : phi_) {
    p.mutable_grad().reset();  // drop anything a caller's backward left behind
    params.push_back(p);
  }
  at::Tensor objective = options_.lambda * driver_loss();
  // With detached virtual-step weights the meta loss does not depend on phi: its gradient
  // is exactly 0, so skip the second-order backward through the look-ahead.
  if (!options_.detach_weights_in_virtual_step && meta_loss.requires_grad())
    objective = objective + meta_loss.to(objective.dtype()).reshape({});
  const auto grads = torch::autograd::grad({objective}, params, /*grad_outputs=*/{},
                                           /*retain_graph=*/false, /*create_graph=*/false,
                                           /*allow_unused=*/true);
  adam_step(grads);
  real_step_next_ = true;
}

void DifficultyNetLoss::adam_step(const std::vector<at::Tensor>& grads) {
  torch::NoGradGuard no_grad;
  ++adam_step_;
  const double beta1 = options_.betas[0], beta2 = options_.betas[1];
  const double bias1 = 1.0 - std::pow(beta1, static_cast<double>(adam_step_));
  const double bias2 = 1.0 - std::pow(beta2, static_cast<double>(adam_step_));
  // torch.optim.Adam's update, operation for operation, so that the two agree bit for bit.
  for (size_t i = 0; i < phi_.size(); ++i) {
    at::Tensor& p = phi_[i].second;
    at::Tensor g = grads[i].defined() ? grads[i] : at::zeros_like(p);
    if (options_.weight_decay != 0.0) g = g.add(p, options_.weight_decay);
    exp_avg_[i].mul_(beta1).add_(g, 1.0 - beta1);
    exp_avg_sq_[i].mul_(beta2).addcmul_(g, g, 1.0 - beta2);
    const at::Tensor denom = (exp_avg_sq_[i].sqrt() / std::sqrt(bias2)).add_(options_.adam_eps);
    p.addcdiv_(exp_avg_[i], denom, -options_.lr / bias1);
  }
}

NamedTensors DifficultyNetLoss::state() const {
  NamedTensors out;
  for (const auto& [name, p] : phi_) out.emplace_back(name, p.detach().clone());
  for (size_t i = 0; i < phi_.size(); ++i) {
    out.emplace_back("adam.exp_avg." + phi_[i].first, exp_avg_[i].clone());
    out.emplace_back("adam.exp_avg_sq." + phi_[i].first, exp_avg_sq_[i].clone());
  }
  out.emplace_back("adam.step", at::scalar_tensor(adam_step_, at::kLong));
  out.emplace_back("accuracy", accuracy_.clone());
  return out;
}

void DifficultyNetLoss::load_state(const NamedTensors& state) {
  auto require = [&](const std::string& name, at::IntArrayRef shape) -> const at::Tensor& {
    const at::Tensor* t = find(state, name);
    TAILOR_CHECK(t != nullptr, "difficulty_net: checkpoint state lacks ", name,
                 "; was it written by another loss, or with other hidden/bias options?");
    TAILOR_CHECK(t->sizes() == shape, "difficulty_net: checkpoint ", name, " is ", t->sizes(),
                 ", expected ", shape, " (hidden = ", options_.hidden,
                 ", bias = ", options_.bias ? "true" : "false", ", ", num_classes_, " classes)");
    return *t;
  };
  // Check everything before changing anything.
  std::vector<const at::Tensor*> values, avg, avg_sq;
  for (const auto& [name, p] : phi_) {
    values.push_back(&require(name, p.sizes()));
    avg.push_back(&require("adam.exp_avg." + name, p.sizes()));
    avg_sq.push_back(&require("adam.exp_avg_sq." + name, p.sizes()));
  }
  TAILOR_CHECK(find(state, "phi.0.bias") == nullptr || options_.bias,
               "difficulty_net: checkpoint has MLP biases but bias = false");
  const at::Tensor& step = require("adam.step", {});
  const at::Tensor& accuracy = require("accuracy", {num_classes_});
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < phi_.size(); ++i) {
    phi_[i].second.copy_(*values[i]);
    exp_avg_[i].copy_(*avg[i]);
    exp_avg_sq_[i].copy_(*avg_sq[i]);
  }
  adam_step_ = step.item<int64_t>();
  accuracy_ = accuracy.to(at::kCPU, at::kDouble).clone();
  real_step_next_ = false;
}

NamedTensors DifficultyNetLoss::class_vectors() const {
  torch::NoGradGuard no_grad;
  return {{"weights", weights()}, {"difficulties", difficulties()}};
}

}  // namespace tailor::plugins
