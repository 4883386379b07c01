// instance plugin entry: registers tailor::plugins::InstanceSampler as the "instance" sampler.
#include "instance.hpp"

#include <tailor/plugin.hpp>

TAILOR_SAMPLER_PLUGIN(tailor::plugins::InstanceSampler, "instance", "1.0.0",
                      "Each train sample once per epoch, shuffled.")
