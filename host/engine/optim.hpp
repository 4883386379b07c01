// host/engine/optim.hpp - optimisers with parameter groups, and learning-rate schedules.
#pragma once

#include "config/options.hpp"

#include <tailor/components.hpp>

#include <torch/optim/optimizer.h>

#include <memory>

namespace tailor::host {

/// The factor [optimizer] lr_scaling applies to lr for a global batch of `batch_size`:
/// 1 (none), batch_size / lr_base_batch (linear) or its square root (sqrt).
double lr_factor(const OptimizerOptions& optimizer, int64_t batch_size);

/// Learning rate of epoch `epoch` (0-based within a stage of `stage_epochs`).
double scheduled_lr(const ScheduleOptions& schedule, double base_lr, int64_t epoch,
                    int64_t stage_epochs);

/// True when `name` (e.g. "head.bias") matches a no_decay entry: an exact name, a prefix
/// ending in '.', "bias" (every *.bias) or "norm" (every 1-D parameter).
bool excluded_from_decay(const std::string& name, const at::Tensor& p,
                         const std::vector<std::string>& no_decay);

/// An optimiser over three groups: decayed model parameters, model parameters excluded
/// from decay, and the loss's own learnable parameters (no decay, loss_lr).
class Optimizer {
 public:
  Optimizer(const OptimizerOptions& options, const NamedTensors& model, const NamedTensors& loss);
  /// Sets the group rates for base rate `lr` (the loss group scales with it).
  void set_lr(double lr);
  void zero_grad();
  void step();
  torch::optim::Optimizer& impl() { return *impl_; }
  /// Names of the optimised parameters, in group order (identifies compatible states).
  const std::vector<std::string>& names() const { return names_; }
  const OptimizerOptions& options() const { return options_; }

 private:
  OptimizerOptions options_;
  std::unique_ptr<torch::optim::Optimizer> impl_;
  std::vector<std::string> names_;
  std::vector<double> group_scale_;
};

/// The optimiser of a stage over `model` and `loss` parameters. The previous stage's state
/// (momentum buffers, Adam moments) carries over unless `reset`, when `previous` has the same
/// type and parameters.
std::unique_ptr<Optimizer> stage_optimizer(const OptimizerOptions& options,
                                           const NamedTensors& model, const NamedTensors& loss,
                                           Optimizer* previous, bool reset,
                                           const std::string& stage);

}  // namespace tailor::host
