// idx_lt plugin entry: registers tailor::plugins::IdxLt as the "idx_lt" dataset.
#include "idx_lt.hpp"

#include <tailor/plugin.hpp>

TAILOR_DATASET_PLUGIN(tailor::plugins::IdxLt, "idx_lt", "1.0.0",
                      "MNIST-family IDX files (Fashion-MNIST by default) with an artificial "
                      "long tail and a balanced held-out val split.")
