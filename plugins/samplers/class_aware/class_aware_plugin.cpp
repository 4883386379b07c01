// class_aware plugin entry: registers tailor::plugins::ClassAwareSampler as the "class_aware"
// sampler.
#include "class_aware.hpp"

#include <tailor/plugin.hpp>

TAILOR_SAMPLER_PLUGIN(
    tailor::plugins::ClassAwareSampler, "class_aware", "1.0.0",
    "Runs of k samples per class, classes visited in shuffled cycles (Shen et al. 2016).")
