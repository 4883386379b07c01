// focal_example: the plugin's entry point; the loss itself is in focal_example.hpp.
#include "focal_example.hpp"

#include <tailor/plugin.hpp>

TAILOR_LOSS_PLUGIN(focal_example::FocalExample, "focal_example", "1.0.0",
                   "Softmax focal loss -(1 - p_t)^gamma log p_t, mean over the batch.")
