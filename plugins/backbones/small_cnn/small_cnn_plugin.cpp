// small_cnn plugin entry: registers tailor::plugins::SmallCnn as the "small_cnn" backbone.
#include "small_cnn.hpp"

#include <tailor/plugin.hpp>

TAILOR_BACKBONE_PLUGIN(tailor::plugins::SmallCnn, "small_cnn", "1.0.0",
                       "Four-conv BN-ReLU network with global average pooling for small images "
                       "(features: 4 * width).")
