// host/dist/grad_sync.hpp - gradient averaging across ranks through c10d::Reducer, the
// engine behind PyTorch's DistributedDataParallel.
#pragma once

#include "dist/collective.hpp"

#include <tailor/components.hpp>

#include <memory>

namespace c10d {
class Reducer;
}

namespace tailor::host {

/// Options of the Reducer, as DistributedDataParallel names them.
struct GradSyncOptions {
  int64_t bucket_cap_mb = 25;
  bool find_unused_parameters = false;
  bool broadcast_buffers = true;
};

/// Drives one c10d::Reducer over a stage's trainable parameters, call for call as Python's
/// DistributedDataParallel 1.13 does: parameters and buffers broadcast from rank 0 and their
/// shapes verified when created; the buffers broadcast from rank 0 at every step; before a
/// synchronising forward, prepare_for_forward and rebuild_buckets (a collective); before its
/// backward, prepare_for_backward. The Reducer's autograd hooks then all-reduce the gradients
/// bucket by bucket while backward runs, scaled by 1/world_size (so the optimizer sees the mean
/// over ranks, as one process sees the mean over its batch).
class GradSync {
 public:
  /// `params` are the trainable parameters (in a fixed order, the same on every rank);
  /// `buffers` the model buffers broadcast before each forward.
  GradSync(Collective& collective, const NamedTensors& params, const NamedTensors& buffers,
           const GradSyncOptions& options);
  ~GradSync();
  GradSync(const GradSync&) = delete;
  GradSync& operator=(const GradSync&) = delete;

  /// At the start of an optimizer step: rank 0's buffers on every rank (broadcast_buffers).
  void broadcast_buffers();
  /// Before the forward whose backward synchronises (the last micro-batch of a step).
  void prepare_forward();
  /// Before that backward. `outputs` are what the loss was computed from (searched for
  /// unused parameters when find_unused_parameters is on). Backwards without this call
  /// accumulate gradients locally (gradient accumulation), as under DDP's no_sync().
  void prepare_backward(const std::vector<at::Tensor>& outputs);

 private:
  Collective& collective_;
  std::vector<at::Tensor> buffers_;
  GradSyncOptions options_;
  std::shared_ptr<c10d::Reducer> reducer_;
};

}  // namespace tailor::host
