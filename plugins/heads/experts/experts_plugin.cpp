// experts plugin entry: registers tailor::plugins::ExpertsHead as the "experts" head.
#include "experts.hpp"

#include <tailor/plugin.hpp>

TAILOR_HEAD_PLUGIN(tailor::plugins::ExpertsHead, "experts", "1.0.0",
                   "One classifier per expert of a multi-expert backbone (RIDE, SADE): cosine "
                   "s <f/|f|, w_c/|w_c|> (NormedLinear, s = 30) or linear; mean of the experts, or "
                   "learned softmax weights (SADE).")
