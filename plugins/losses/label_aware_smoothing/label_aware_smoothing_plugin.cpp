// label_aware_smoothing plugin entry: registers tailor::plugins::LabelAwareSmoothing.
#include "label_aware_smoothing.hpp"

#include <tailor/plugin.hpp>

TAILOR_LOSS_PLUGIN(tailor::plugins::LabelAwareSmoothing, "label_aware_smoothing", "1.0.0",
                   "Label-aware smoothing (MiSLAS): per-class label smoothing from head to tail.")
