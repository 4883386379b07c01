// progressive plugin entry: registers tailor::plugins::ProgressiveSampler as the "progressive"
// sampler.
#include "progressive.hpp"

#include <tailor/plugin.hpp>

TAILOR_SAMPLER_PLUGIN(tailor::plugins::ProgressiveSampler, "progressive", "1.0.0",
                      "Class probabilities moving linearly from instance to class-balanced over "
                      "the stage (Kang et al. 2020).")
