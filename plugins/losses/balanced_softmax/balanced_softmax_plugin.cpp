// balanced_softmax plugin entry: registers tailor::plugins::BalancedSoftmax as "balanced_softmax".
#include "balanced_softmax.hpp"

#include <tailor/plugin.hpp>

TAILOR_LOSS_PLUGIN(tailor::plugins::BalancedSoftmax, "balanced_softmax", "1.0.0",
                   "Balanced Softmax (Ren et al.): cross-entropy on logits + log class counts.")
