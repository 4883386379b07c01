// cdb plugin entry: registers tailor::plugins::CdbLoss as the "cdb" loss.
#include "cdb.hpp"

#include <tailor/plugin.hpp>

TAILOR_LOSS_PLUGIN(tailor::plugins::CdbLoss, "cdb", "1.0.0",
                   "Class-wise Difficulty-Balanced loss (Sinha et al.): class weights from "
                   "per-class validation accuracy.")
