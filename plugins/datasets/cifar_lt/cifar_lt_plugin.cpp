// cifar_lt plugin entry: registers tailor::plugins::CifarLt as the "cifar_lt" dataset.
#include "cifar_lt.hpp"

#include <tailor/plugin.hpp>

TAILOR_DATASET_PLUGIN(tailor::plugins::CifarLt, "cifar_lt", "1.0.0",
                      "CIFAR-10/100 binary version with the LDAM-DRW or CDB-loss long tail, "
                      "standard crop/flip, AutoAugment and Cutout.")
