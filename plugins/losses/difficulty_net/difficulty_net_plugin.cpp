// difficulty_net plugin entry: registers tailor::plugins::DifficultyNetLoss as "difficulty_net".
#include "difficulty_net.hpp"

#include <tailor/plugin.hpp>

TAILOR_LOSS_PLUGIN(
    tailor::plugins::DifficultyNetLoss, "difficulty_net", "1.0.0",
    "Difficulty-Net: class weights from an MLP on per-class accuracies, meta-learned.")
