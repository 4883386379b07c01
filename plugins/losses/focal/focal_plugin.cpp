// focal plugin entry: registers tailor::plugins::FocalLoss as the "focal" loss.
#include "focal.hpp"

#include <tailor/plugin.hpp>

TAILOR_LOSS_PLUGIN(tailor::plugins::FocalLoss, "focal", "1.0.0",
                   "Focal loss (Lin et al.), softmax or one-vs-all sigmoid form.")
