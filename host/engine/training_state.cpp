// host/engine/training_state.cpp - TrainingState <-> checkpoint.
#include "engine/training_state.hpp"

#include "report/records.hpp"

#include <ATen/ATen.h>

#include <tailor/error.hpp>

namespace tailor::host {

TrainingState TrainingState::capture(const Position& position, double loss_sum, int64_t seen,
                                     const Results& results, Model& model, const LossPlugin& loss,
                                     Optimizer& optimizer) {
  TrainingState s;
  s.position = position;
  s.loss_sum = loss_sum;
  s.seen = seen;
  s.results = results;
  if (!model.head().eval_knob().empty()) s.head_knob = model.head().eval_knob_value();
  s.model = model.state();
  s.loss = loss.state();
  s.rng.emplace_back("cpu", at::detail::getDefaultCPUGenerator().get_state());
  s.optimizer = optimizer_state(optimizer);
  return s;
}

void TrainingState::restore(Model& model, const LossPlugin& loss, Optimizer& optimizer) const {
  model.load_state(this->model);
  loss.load_state(this->loss);
  load_optimizer_state(optimizer, this->optimizer);
  for (const auto& [name, t] : rng)
    if (name == "cpu") {
      at::Generator generator = at::detail::getDefaultCPUGenerator();
      generator.set_state(t);
    }
  if (head_knob && !model.head().eval_knob().empty()) model.head().set_eval_knob(*head_knob);
}

Checkpoint TrainingState::to_checkpoint(const std::string& name) const {
  Checkpoint c;
  c.model = model;
  c.loss = loss;
  c.rng = rng;
  c.optimizer = optimizer;
  c.config_sha256 = config_sha256;
  c.config_changes = config_changes;
  c.meta = {{"experiment", name},
            {"stage", position.stage},
            {"epoch", position.epoch},
            {"step", position.step},
            {"completed", position.completed},
            {"loss_sum", loss_sum},
            {"seen", seen},
            {"best_epoch", results.best_epoch},
            {"best_val_top1", results.best_val_top1},
            {"divergence", divergence}};
  if (head_knob) c.meta["head_knob"] = *head_knob;
  if (results.last_test.num_samples > 0) c.meta["last_test"] = to_json(results.last_test);
  if (results.last_val.num_samples > 0) c.meta["last_val"] = to_json(results.last_val);
  if (results.best_epoch > 0 && results.best_test.num_samples > 0)
    c.meta["best_test"] = to_json(results.best_test);
  return c;
}

TrainingState TrainingState::from_checkpoint(const Checkpoint& c, const std::string& name,
                                             const std::filesystem::path& file) {
  const auto& m = c.meta;
  TAILOR_CHECK(m.value("experiment", "") == name, "checkpoint ", file.string(),
               " belongs to experiment '", m.value("experiment", ""), "', not '", name, "'");
  TrainingState s;
  try {
    s.position.stage = m.at("stage").get<int64_t>();
    s.position.epoch = m.at("epoch").get<int64_t>();
    s.position.step = m.at("step").get<int64_t>();
    s.position.completed = m.at("completed").get<int64_t>();
    s.loss_sum = m.at("loss_sum").get<double>();
    s.seen = m.at("seen").get<int64_t>();
    s.results.best_epoch = m.at("best_epoch").get<int64_t>();
    s.results.best_val_top1 = m.at("best_val_top1").get<double>();
    if (m.contains("last_test")) s.results.last_test = eval_from_json(m.at("last_test"));
    if (m.contains("last_val")) s.results.last_val = eval_from_json(m.at("last_val"));
    if (m.contains("best_test")) s.results.best_test = eval_from_json(m.at("best_test"));
    // Checkpoints before heads were plugins kept tau_norm's tau as "tau" (1.0 for any head).
    if (m.contains("head_knob"))
      s.head_knob = m.at("head_knob").get<double>();
    else if (m.contains("tau"))
      s.head_knob = m.at("tau").get<double>();
    s.divergence = m.value("divergence", nlohmann::json());
  } catch (const nlohmann::json::exception& e) {
    throw Error("checkpoint " + file.string() + " has an incomplete header (" + e.what() +
                "); resume from another checkpoint or start a new run");
  }
  s.model = c.model;
  s.loss = c.loss;
  s.rng = c.rng;
  s.optimizer = c.optimizer;
  s.config_sha256 = c.config_sha256;
  s.config_changes = c.config_changes;
  return s;
}

void TrainingState::save(const std::filesystem::path& checkpoints, const std::string& name,
                         bool is_best, int64_t every) const {
  const Checkpoint c = to_checkpoint(name);
  save_checkpoint(checkpoints / "latest.pt", c);
  if (is_best) save_checkpoint(checkpoints / "best.pt", c);
  if (every > 0 && position.completed % every == 0 && position.step == 0)
    save_checkpoint(checkpoints / ("epoch_" + std::to_string(position.completed) + ".pt"), c);
}

}  // namespace tailor::host
