// cmo plugin entry: registers tailor::plugins::Cmo as the "cmo" batch mix.
#include "cmo.hpp"

#include <tailor/plugin.hpp>

TAILOR_BATCH_MIX_PLUGIN(tailor::plugins::Cmo, "cmo", "1.0.0",
                        "CMO (Park et al.): CutMix of the batch with a minority-oversampled "
                        "batch.")
