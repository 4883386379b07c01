// host/engine/preflight.cpp - cross-section checks run once the experiment is built.
#include "engine/preflight.hpp"

#include "config/experiment.hpp"
#include "engine/experiment.hpp"
#include "report/run_dir.hpp"

#include <string>

namespace tailor::host {

void preflight(const Experiment& experiment) {
  try {
    check_run_name(experiment.experiment().name);
  } catch (const std::runtime_error& e) {
    throw ConfigError(e.what());
  }
  const int64_t train = experiment.dataset().size(Split::kTrain);
  for (const auto& plan : experiment.stages()) {
    if (plan.train.batch_size <= train) continue;
    const std::string where =
        experiment.stages().size() == 1 ? "[train]" : "stage '" + plan.stage.name + "': [train]";
    throw ConfigError(where + " batch_size = " + std::to_string(plan.train.batch_size) +
                      " is larger than the train split of dataset '" + experiment.dataset().name() +
                      "' (" + std::to_string(train) +
                      " samples), so no full batch exists; set batch_size to at most " +
                      std::to_string(train));
  }
}

}  // namespace tailor::host
