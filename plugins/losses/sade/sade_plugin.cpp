// sade plugin entry: registers tailor::plugins::SadeLoss as the "sade" loss.
#include "sade.hpp"

#include <tailor/plugin.hpp>

TAILOR_LOSS_PLUGIN(tailor::plugins::SadeLoss, "sade", "1.0.0",
                   "SADE (Zhang et al.): softmax, balanced-softmax and inverse-softmax losses "
                   "for the three experts of a multi-expert model.")
