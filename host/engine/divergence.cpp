// host/engine/divergence.cpp - the divergence guard's comparison and its checkpointed state.
#include "engine/divergence.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace tailor::host {

void DivergenceGuard::check(double factor, int64_t stage, const std::string& stage_name,
                            int64_t epoch, double loss, const std::string& loss_name) {
  if (epoch == 0 || stage != stage_) {
    stage_ = stage;
    reference_ = loss;
    return;
  }
  if (factor <= 0 || !(reference_ > 0) || !std::isfinite(reference_)) return;
  if (loss <= factor * reference_) return;
  throw std::runtime_error(fmt::format(
      "training diverged: loss '{}' at stage '{}' epoch {} is {:.6g}, more than "
      "divergence_factor = {:g} times the stage's first epoch ({:.6g}); stopped, the last good "
      "checkpoint is kept. Lower the learning rate, set [train] grad_clip, or raise "
      "[train] divergence_factor (0 turns the check off)",
      loss_name, stage_name, epoch + 1, loss, factor, reference_));
}

nlohmann::json DivergenceGuard::state() const {
  return {{"stage", stage_}, {"reference", reference_}};
}

void DivergenceGuard::restore(const nlohmann::json& state) {
  if (!state.is_object()) return;
  stage_ = state.value("stage", int64_t{-1});
  reference_ = state.value("reference", 0.0);
}

}  // namespace tailor::host
