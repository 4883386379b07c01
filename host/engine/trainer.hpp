// host/engine/trainer.hpp - the training loop: stages of epochs of steps, evaluation,
// checkpoints.
#pragma once

#include "engine/experiment.hpp"
#include "engine/model.hpp"
#include "engine/resume.hpp"
#include "eval/metrics.hpp"
#include "report/run_dir.hpp"

#include <stdexcept>

namespace tailor::host {

/// What a finished run reports.
struct RunSummary {
  EvalResult last_val, last_test;  ///< after the last epoch
  EvalResult best_test;            ///< test at the epoch with the best val top-1
  int64_t best_epoch = -1;         ///< 1-based over all stages; -1 without a val split
  double best_val_top1 = 0;
  int64_t epochs = 0;              ///< epochs run over all stages
  double seconds = 0;              ///< wall time of this process's share of the run
  bool has_val = false, has_test = false;
};

/// Thrown when SIGINT/SIGTERM stopped training; a checkpoint was written first.
class Interrupted : public std::runtime_error {
 public:
  Interrupted(const std::string& what, int signal) : std::runtime_error(what), signal_(signal) {}
  /// The signal that stopped training (the process exits with 128 + signal).
  int signal() const { return signal_; }

 private:
  int signal_;
};

/// Runs an experiment into a run directory. The loop is composed of the experiment's parts
/// (dataset, sampler, model, loss, optimiser, schedule) stage by stage; policy lives in the
/// configuration, not here.
class Trainer {
 public:
  Trainer(Experiment& experiment, RunDir& run);
  ~Trainer();
  /// Trains every stage, from `start`'s checkpoint when it has one (metrics of epochs after
  /// that checkpoint are dropped and recomputed when `start.resume`).
  RunSummary run(const ResumePlan& start);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tailor::host
