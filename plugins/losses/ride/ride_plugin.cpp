// ride plugin entry: registers tailor::plugins::RideLoss as the "ride" loss.
#include "ride.hpp"

#include <tailor/plugin.hpp>

TAILOR_LOSS_PLUGIN(tailor::plugins::RideLoss, "ride", "1.0.0",
                   "RIDE (Wang et al.): per-expert LDAM-DRW plus the distribution-aware diversity "
                   "(KL) term; needs a multi-expert model.")
