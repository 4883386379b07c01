// host/engine/trainer.hpp - the training loop: epochs of steps, evaluation, records.
#pragma once

#include "engine/experiment.hpp"
#include "eval/metrics.hpp"
#include "report/run_dir.hpp"

namespace tailor::host {

/// What a finished run reports.
struct RunSummary {
  EvalResult last_test;       ///< test split after the last epoch
  EvalResult best_val_test;   ///< test split at the epoch with the best val top-1
  int64_t best_epoch = -1;    ///< 1-based; -1 when there is no val split
  double best_val_top1 = 0;
  double seconds = 0;
};

/// Runs an experiment into a run directory. The loop is composed of the experiment's parts
/// (dataset, model, loss, optimiser, schedule); it owns no policy of its own.
class Trainer {
 public:
  Trainer(Experiment& experiment, RunDir& run);
  RunSummary run();

 private:
  EvalResult evaluate(Split split, int64_t epoch);

  Experiment& experiment_;
  RunDir& run_;
  Model model_;
};

/// Learning rate at the start of `epoch` (0-based) for `options`.
double learning_rate(const TrainOptions& options, int64_t epoch);

}  // namespace tailor::host
