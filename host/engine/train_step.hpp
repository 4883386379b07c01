// host/engine/train_step.hpp - one optimisation step: forward, loss, backward, update; eager
// or replayed as a CUDA graph, both through the same loss computation.
#pragma once

#include "dist/collective.hpp"
#include "dist/grad_sync.hpp"
#include "engine/accel.hpp"
#include "engine/experiment.hpp"
#include "engine/meta_lookahead.hpp"
#include "engine/model.hpp"
#include "engine/optim.hpp"

#include <functional>
#include <memory>

namespace tailor::host {

/// What a step needs besides its batch.
struct StepContext {
  Clock clock;
  double lr = 0;
  int64_t completed = 0;         ///< finished epochs over all stages (meta batch seeds)
  bool backbone_frozen = false;  ///< keeps the frozen backbone in eval mode after a look-ahead
  /// This rank's samples times the ranks over the global batch's samples: the loss is scaled
  /// by it so that the Reducer's mean over ranks is the global batch's mean (1 unless the
  /// last batch splits unevenly).
  double share = 1.0;
  /// A batch mix's paired targets for this batch ([N] int64 and [N] float), undefined when the
  /// batch was not mixed; micro-batches take their slices.
  at::Tensor targets_b, mix_weight;
};

/// One optimizer step. In a data-parallel run (`dist` given) the gradients are averaged over
/// the ranks by a GradSync set per stage, and a loss's meta look-ahead runs on the whole
/// global batch (gathered from the ranks) on every rank, so meta parameters stay the same on
/// every rank and equal to one process's. With [train] accumulate = K the rank's share is
/// split into K micro-batches whose gradients add up before one optimizer step.
class TrainStep {
 public:
  TrainStep(Model& model, c10::Device device, Collective* dist);
  ~TrainStep();

  /// Prepares the steps of `plan` with `optimizer`; `meta` is the look-ahead when the stage's
  /// loss asks for one (else nullptr); `sync` the stage's gradient synchronisation (null for
  /// a single process). Called at every epoch start: a CUDA graph captured in
  /// an earlier epoch is dropped (the learning rate and the loss's per-epoch state are
  /// constants inside a graph). Logs once per stage why [train] cuda_graph does not apply.
  void begin_epoch(const StagePlan& plan, Optimizer& optimizer, MetaLookahead* meta,
                   GradSync* sync);
  /// Whether the loss needs sample indices with each batch.
  bool needs_indices() const { return needs_indices_; }

  /// One step on (x, y), this rank's share of the global batch. `indices` are its sample
  /// indices when needs_indices(). Eager steps call `check` with each loss value before
  /// backward (it may throw to stop the run); graph replays return a device scalar owned by
  /// the graph. Returns the mean loss over (x, y).
  at::Tensor run(const at::Tensor& x, const at::Tensor& y, const at::Tensor& indices,
                 const StepContext& context, const std::function<void(const at::Tensor&)>& check);
  /// CUDA graph replays in this epoch (for the log).
  int64_t replays() const;

 private:
  /// The loss of (x, y) under the stage's precision, the head-scope look-ahead included.
  at::Tensor compute_loss(const at::Tensor& x, const at::Tensor& y, const at::Tensor& indices,
                          const StepContext& context);
  /// Backward, gradient clipping, optimizer step.
  void update(const at::Tensor& value);
  /// Micro-batches with gradient synchronisation: what run() does in a data-parallel run or
  /// with accumulation.
  at::Tensor run_synchronised(const at::Tensor& x, const at::Tensor& y, const at::Tensor& indices,
                              const StepContext& context,
                              const std::function<void(const at::Tensor&)>& check);
  void clip_and_step();

  Model& model_;
  c10::Device device_;
  Collective* dist_;
  GradSync* sync_ = nullptr;
  const StagePlan* plan_ = nullptr;
  Optimizer* optimizer_ = nullptr;
  MetaLookahead* meta_ = nullptr;
  bool needs_features_ = false, needs_indices_ = false, needs_experts_ = false, bf16_ = false;
  std::unique_ptr<GraphedStep> graph_;
  int graph_stage_ = -1, graph_warned_ = -1;
  StepContext graph_context_;
};

}  // namespace tailor::host
