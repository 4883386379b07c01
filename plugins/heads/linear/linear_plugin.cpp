// linear plugin entry: registers tailor::plugins::LinearHead as the "linear" head.
#include "linear.hpp"

#include <tailor/plugin.hpp>

TAILOR_HEAD_PLUGIN(tailor::plugins::LinearHead, "linear", "1.0.0",
                   "Linear classifier W f + b (torch.nn.Linear).")
