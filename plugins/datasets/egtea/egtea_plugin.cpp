// egtea plugin entry: registers tailor::plugins::Egtea as the "egtea" dataset.
#include "egtea.hpp"

#include <tailor/plugin.hpp>

TAILOR_DATASET_PLUGIN(tailor::plugins::Egtea, "egtea", "1.0.0",
                      "EGTEA Gaze+ action clips (video via FFmpeg or extracted JPEG frames) with "
                      "the CDB-loss splits, TSN sampling and clip augmentation; verb or action "
                      "labels.")
