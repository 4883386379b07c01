// blend_mix plugin entry: registers blend_mix::BlendMix as the "blend_mix" batch mix.
#include "blend_mix.hpp"

#include <tailor/plugin.hpp>

TAILOR_BATCH_MIX_PLUGIN(blend_mix::BlendMix, "blend_mix", "1.0.0",
                        "With probability prob, blends every sample with its neighbour in the "
                        "batch: w x + (1 - w) x.roll(1).")
