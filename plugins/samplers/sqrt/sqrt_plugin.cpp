// sqrt plugin entry: registers tailor::plugins::SqrtSampler as the "sqrt" sampler.
#include "sqrt.hpp"

#include <tailor/plugin.hpp>

TAILOR_SAMPLER_PLUGIN(tailor::plugins::SqrtSampler, "sqrt", "1.0.0",
                      "A class with probability n_c^q / sum_k n_k^q (square-root sampling), then a "
                      "uniform sample of it.")
