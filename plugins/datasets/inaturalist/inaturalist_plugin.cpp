// inaturalist plugin entry: registers tailor::plugins::Inaturalist as the "inaturalist" dataset.
#include "inaturalist.hpp"

#include <tailor/plugin.hpp>

TAILOR_DATASET_PLUGIN(tailor::plugins::Inaturalist, "inaturalist", "1.0.0",
                      "iNaturalist 2018: 8142 classes, official JSON or list files, checked.")
