// places_lt plugin entry: registers tailor::plugins::PlacesLt as the "places_lt" dataset.
#include "places_lt.hpp"

#include <tailor/plugin.hpp>

TAILOR_DATASET_PLUGIN(tailor::plugins::PlacesLt, "places_lt", "1.0.0",
                      "Places-LT: 365 classes, 62,500 train images, official lists checked.")
