// host/engine/training_state.hpp - what a checkpoint saves and restores, typed.
#pragma once

#include "engine/checkpoint.hpp"
#include "engine/model.hpp"
#include "engine/optim.hpp"
#include "eval/metrics.hpp"
#include "plugins/instances.hpp"

#include <tailor/components.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace tailor::host {

/// Where training stands: the next step to run. Epochs and steps are 0-based; `completed`
/// counts finished epochs over all stages.
struct Position {
  int64_t stage = 0, epoch = 0, step = 0, completed = 0;
};

/// Evaluation results so far: the latest val and test passes and the test pass at the epoch
/// with the best val top-1 (num_samples == 0: not evaluated yet).
struct Results {
  EvalResult last_val, last_test, best_test;
  int64_t best_epoch = -1;  ///< 1-based over all stages; -1 before any validation
  double best_val_top1 = 0;
};

/// Everything a resumed run needs to continue bit-identically.
struct TrainingState {
  Position position;
  double loss_sum = 0;  ///< sample-weighted training loss of the running epoch so far
  int64_t seen = 0;     ///< samples of the running epoch so far
  Results results;
  /// The head's evaluation knob (tau_norm's tau) as [eval] tau_sweep left it; unset for a
  /// head without one. Checkpoints keep it under "head_knob" (before: "tau").
  std::optional<double> head_knob;
  NamedTensors model;                        ///< parameters and buffers, "backbone.*" and "head.*"
  NamedTensors loss;                         ///< the active loss plugin's state()
  NamedTensors rng;                          ///< generator states by device ("cpu")
  std::string optimizer;                     ///< serialised optimizer state
  std::string config_sha256;                 ///< the configuration trained under (config_digest)
  std::vector<ConfigChange> config_changes;  ///< accepted configuration edits, oldest first
  nlohmann::json divergence;                 ///< DivergenceGuard::state()

  /// The state of a run at `position` (CPU generator included).
  static TrainingState capture(const Position& position, double loss_sum, int64_t seen,
                               const Results& results, Model& model, const LossPlugin& loss,
                               Optimizer& optimizer);
  /// Puts the tensors back: model, loss state, optimizer state, CPU generator, the head's knob.
  void restore(Model& model, const LossPlugin& loss, Optimizer& optimizer) const;

  /// The checkpoint of this state for experiment `name`.
  Checkpoint to_checkpoint(const std::string& name) const;
  /// Writes it to `checkpoints`/latest.pt, to best.pt when `is_best`, and to epoch_<N>.pt at
  /// the end of every `every`-th epoch (0: never).
  void save(const std::filesystem::path& checkpoints, const std::string& name, bool is_best,
            int64_t every) const;
  /// Reads `c` (loaded from `file`); refuses a checkpoint of another experiment than `name`.
  static TrainingState from_checkpoint(const Checkpoint& c, const std::string& name,
                                       const std::filesystem::path& file);
};

}  // namespace tailor::host
