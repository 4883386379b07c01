// ce plugin entry: registers tailor::plugins::CrossEntropy as the "ce" loss.
#include "ce.hpp"

#include <tailor/plugin.hpp>

TAILOR_LOSS_PLUGIN(tailor::plugins::CrossEntropy, "ce", "1.0.0",
                   "Softmax cross-entropy with optional class weights and label smoothing.")
