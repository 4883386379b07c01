// mixup plugin entry: registers tailor::plugins::Mixup as the "mixup" batch mix.
#include "mixup.hpp"

#include <tailor/plugin.hpp>

TAILOR_BATCH_MIX_PLUGIN(tailor::plugins::Mixup, "mixup", "1.0.0",
                        "Input mixup (Zhang et al.), as MiSLAS stage 1 uses it: one "
                        "Beta(alpha, alpha) lambda and a permutation per batch.")
