// logit_adjustment plugin entry: registers tailor::plugins::LogitAdjustment as "logit_adjustment".
#include "logit_adjustment.hpp"

#include <tailor/plugin.hpp>

TAILOR_LOSS_PLUGIN(tailor::plugins::LogitAdjustment, "logit_adjustment", "1.0.0",
                   "Logit adjustment (Menon et al.): logit-adjusted loss or post-hoc "
                   "adjustment at evaluation.")
