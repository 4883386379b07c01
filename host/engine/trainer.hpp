// host/engine/trainer.hpp - the training loop: stages of epochs of steps, evaluation,
// checkpoints.
#pragma once

#include "dist/collective.hpp"
#include "engine/experiment.hpp"
#include "engine/run_observer.hpp"
#include "engine/training_state.hpp"
#include "engine/resume.hpp"
#include "report/run_dir.hpp"

#include <memory>
#include <stdexcept>

namespace tailor::host {

/// What a finished run reports.
struct RunSummary : Results {
  int64_t epochs = 0;   ///< epochs run over all stages
  double seconds = 0;   ///< wall time of this process's share of the run
  bool has_val = false, has_test = false;
};

/// Thrown when a stop signal ended training; a checkpoint was written first. `signal` is
/// the signal's number (the process exits with 128 + signal).
class Interrupted : public std::runtime_error {
 public:
  Interrupted(const std::string& what, int signal) : std::runtime_error(what), signal(signal) {}
  int signal;
};

/// Runs an experiment into a run directory. The loop is composed of parts (TrainStep,
/// MetaLookahead, EvalLoop, TrainingState) over the experiment's components; policy lives in
/// the configuration, not here.
class Trainer {
 public:
  /// `observer` (may be null) is told about epochs and steps and may ask to stop. `dist`
  /// (null for a single process) makes this rank one of a data-parallel run: it trains on
  /// its share of every global batch, gradients and evaluation counts are summed across
  /// ranks, and only a RunDir that is the writer (rank 0) writes files.
  Trainer(Experiment& experiment, RunDir& run, RunObserver* observer = nullptr,
          Collective* dist = nullptr);
  ~Trainer();
  /// Trains every stage, from `start`'s checkpoint when it has one (metrics of epochs after
  /// that checkpoint are dropped and recomputed when `start.resume`).
  RunSummary run(const ResumePlan& start);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tailor::host
