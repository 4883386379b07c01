// host/engine/accel.hpp - speed options of the training step: bf16 autocast, channels-last
// memory format and CUDA graph capture. Each is off by default and leaves the CPU build free
// of any CUDA dependency (graph capture compiles only against a CUDA LibTorch).
#pragma once

#include <ATen/Tensor.h>
#include <c10/core/Device.h>
#include <torch/nn/module.h>

#include <functional>
#include <memory>

namespace tailor::host {

/// Autocasts to bfloat16 on `device` for the guard's lifetime; a no-op when `enabled` is
/// false. Restores the previous state (and drops the cast-weight cache) on destruction.
class AutocastGuard {
 public:
  AutocastGuard(c10::Device device, bool enabled);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool enabled_;
  c10::DeviceType type_;
  bool previous_ = false;
  c10::ScalarType previous_dtype_ = c10::ScalarType::Float;
};

/// Stores every 4-D parameter and buffer of `module` in channels-last memory format, in place
/// (optimizers keep their references).
void to_channels_last(torch::nn::Module& module);

/// `x` in channels-last format when it is a 4-D batch; otherwise `x`.
at::Tensor channels_last_input(const at::Tensor& x);

/// True when this build links a CUDA LibTorch (graph capture is possible).
bool cuda_graphs_built();

/// One training step (zero_grad, forward, loss, backward, optimizer step) replayed as a CUDA
/// graph. The first `warmup` calls run eagerly on a side stream (allocating optimizer state
/// and warming cuDNN/cuBLAS); the next full-size batch is captured with static input
/// buffers, then every batch of that shape is copied in and replayed. A batch of another
/// shape (the last, partial one) runs eagerly. invalidate() drops the graph (e.g. when the
/// learning rate, a constant inside the graph, changes). The returned loss is a device
/// scalar owned by the graph: read or copy it before the next step.
class GraphedStep {
 public:
  using Body = std::function<at::Tensor(const at::Tensor& inputs, const at::Tensor& targets)>;
  GraphedStep(Body body, int64_t warmup = 3);
  ~GraphedStep();
  at::Tensor step(const at::Tensor& inputs, const at::Tensor& targets);
  void invalidate();
  /// Graph replays so far (for the log).
  int64_t replays() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tailor::host
