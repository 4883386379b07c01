// cosine plugin entry: registers tailor::plugins::CosineHead as the "cosine" head.
#include "cosine.hpp"

#include <tailor/plugin.hpp>

TAILOR_HEAD_PLUGIN(
    tailor::plugins::CosineHead, "cosine", "1.0.0",
    "Cosine classifier s <f/|f|, w_c/|w_c|> without bias (LDAM's NormedLinear when s = 1).")
