// host/engine/eval_loop.hpp - evaluation passes over a split, and their records.
#pragma once

#include "config/options.hpp"
#include "dist/collective.hpp"
#include "engine/model.hpp"
#include "eval/metrics.hpp"
#include "plugins/instances.hpp"
#include "report/run_dir.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace tailor::host {

/// Runs the model in evaluation mode over whole splits, in fixed order, with the loss's
/// post-hoc logit adjustment, and records each pass in metrics.jsonl and timing.jsonl. In a
/// data-parallel run each rank evaluates a contiguous shard and the counts are summed across
/// ranks, so every rank gets the metrics of the whole split.
class EvalLoop {
 public:
  /// `dist` is null for a single process.
  EvalLoop(Model& model, const DatasetPlugin& dataset, RunDir& dir, const TrainOptions& train,
           const EvalOptions& eval, std::vector<int64_t> class_counts, c10::Device device,
           Collective* dist);

  /// Evaluates `split` and appends its record for epoch `epoch` (1-based over all stages)
  /// of stage `stage_name`. On val, [eval] tau_sweep tries each value of the head's evaluation
  /// knob (tau_norm's tau), keeps the one with the best top-1 set (Kang et al.: test then uses
  /// the chosen tau) and records it under the knob's name.
  EvalResult evaluate(Split split, const LossPlugin& loss, const std::string& stage_name,
                      int64_t epoch);
  /// Features [N, D] and labels [N] of the whole train split with the evaluation transform
  /// (on every rank, in split order).
  std::pair<at::Tensor, at::Tensor> train_features();

 private:
  EvalResult pass(Split split, const LossPlugin& loss, int64_t epoch);
  SampleOutcomes gather(const SampleOutcomes& local) const;
  /// This rank's contiguous share of the split's positions.
  std::vector<int64_t> shard(Split split) const;

  Model& model_;
  const DatasetPlugin& dataset_;
  RunDir& dir_;
  const TrainOptions& train_;
  const EvalOptions& eval_;
  std::vector<int64_t> class_counts_;
  c10::Device device_;
  Collective* dist_;
  double temperature_ = 0;  // fitted on the latest val pass; 0 before one (test: no ece_ts)
};

}  // namespace tailor::host
