// vs_loss plugin entry: registers tailor::plugins::VsLoss as the "vs_loss" loss.
#include "vs_loss.hpp"

#include <tailor/plugin.hpp>

TAILOR_LOSS_PLUGIN(tailor::plugins::VsLoss, "vs_loss", "1.0.0",
                   "VS loss (Kini et al.): per-class multiplicative logit scale and additive "
                   "offset, optional DRW re-weighting.")
