// scaled_linear plugin entry: registers scaled_linear::ScaledLinear as the "scaled_linear" head.
#include "scaled_linear.hpp"

#include <tailor/plugin.hpp>

TAILOR_HEAD_PLUGIN(scaled_linear::ScaledLinear, "scaled_linear", "1.0.0",
                   "A linear classifier with scaled logits: scale (W f + b).")
