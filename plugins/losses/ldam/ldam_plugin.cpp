// ldam plugin entry: registers tailor::plugins::LdamLoss as the "ldam" loss.
#include "ldam.hpp"

#include <tailor/plugin.hpp>

TAILOR_LOSS_PLUGIN(tailor::plugins::LdamLoss, "ldam", "1.0.0",
                   "LDAM (Cao et al.): per-class margins on cosine logits, optional DRW "
                   "re-weighting.")
