// sade_aggregation plugin entry: registers tailor::plugins::SadeAggregationLoss as the
// "sade_aggregation" loss.
#include "sade_aggregation.hpp"

#include <tailor/plugin.hpp>

TAILOR_LOSS_PLUGIN(tailor::plugins::SadeAggregationLoss, "sade_aggregation", "1.0.0",
                   "SADE's test-time self-supervised aggregation (Zhang et al.): -cos of the "
                   "softmax predictions of two views of unlabeled test images; reads no labels.")
