// host/engine/divergence.hpp - [train] divergence_factor: stopping a run whose loss explodes
// without ever becoming NaN.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace tailor::host {

/// Remembers the mean training loss of each stage's first epoch and stops training when a
/// later epoch of that stage exceeds it by more than a factor. A stage whose first loss is
/// not positive and finite is not guarded (the ratio means nothing there).
class DivergenceGuard {
 public:
  /// Checks the mean training loss of `epoch` (0-based within stage number `stage`, named
  /// `stage_name`) of loss plugin `loss_name`; `factor` 0 turns the guard off. Throws
  /// std::runtime_error naming the stage, the epoch, both losses and the fix.
  void check(double factor, int64_t stage, const std::string& stage_name, int64_t epoch,
             double loss, const std::string& loss_name);

  /// What a checkpoint keeps, so that a resumed run compares against the same reference.
  nlohmann::json state() const;
  void restore(const nlohmann::json& state);

 private:
  int64_t stage_ = -1;    // stage of `reference_`
  double reference_ = 0;  // mean loss of that stage's first epoch
};

}  // namespace tailor::host
