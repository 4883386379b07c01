// class_balanced plugin entry: registers tailor::plugins::ClassBalancedSampler as the
// "class_balanced" sampler.
#include "class_balanced.hpp"

#include <tailor/plugin.hpp>

TAILOR_SAMPLER_PLUGIN(tailor::plugins::ClassBalancedSampler, "class_balanced", "1.0.0",
                      "A class uniformly, then a uniform sample of it (Kang et al. 2020).")
