// host/engine/run_observer.hpp - run-level concerns the training engine consults but does
// not own: interruption, progress display and fault injection.
#pragma once

#include <cstdint>
#include <string>

namespace tailor::host {

/// Told about every epoch and step. The command line provides one that handles signals,
/// draws a progress bar and injects test faults; the default does nothing.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  /// A training epoch of `steps` steps starts; `label` names stage and epoch.
  virtual void epoch_begin(const std::string& /*label*/, int64_t /*steps*/) {}
  /// Before step `step` (0-based) of epoch `epoch` (1-based over all stages).
  virtual void step_begin(int64_t /*epoch*/, int64_t /*step*/) {}
  /// After a step; `done` steps and `images` samples of the epoch so far.
  virtual void step_end(int64_t /*done*/, int64_t /*images*/) {}
  /// The training epoch ended.
  virtual void epoch_end() {}
  /// Non-zero: the signal that asks training to stop at the next step (after a checkpoint).
  virtual int stop_signal() const { return 0; }
};

}  // namespace tailor::host
