// dro_lt plugin entry: registers tailor::plugins::DroLtLoss as the "dro_lt" loss.
#include "dro_lt.hpp"

#include <tailor/plugin.hpp>

TAILOR_LOSS_PLUGIN(
    tailor::plugins::DroLtLoss, "dro_lt", "1.0.0",
    "DRO-LT: frequency-weighted CE plus the distributional robustness loss on features.")
