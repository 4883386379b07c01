// class_balanced plugin entry: registers tailor::plugins::ClassBalancedLoss as "class_balanced".
#include "class_balanced.hpp"

#include <tailor/plugin.hpp>

TAILOR_LOSS_PLUGIN(tailor::plugins::ClassBalancedLoss, "class_balanced", "1.0.0",
                   "Class-Balanced loss (Cui et al.): effective-number class weights on a "
                   "softmax, sigmoid or focal base loss.")
