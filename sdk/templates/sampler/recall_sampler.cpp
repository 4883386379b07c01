// recall_sampler plugin entry: registers recall_sampler::RecallSampler as "recall_sampler".
#include "recall_sampler.hpp"

#include <tailor/plugin.hpp>

TAILOR_SAMPLER_PLUGIN(recall_sampler::RecallSampler, "recall_sampler", "1.0.0",
                      "Classes drawn by 1 - val recall + floor, then a uniform sample.")
