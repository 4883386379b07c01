// imagenet_lt plugin entry: registers tailor::plugins::ImagenetLt as the "imagenet_lt" dataset.
#include "imagenet_lt.hpp"

#include <tailor/plugin.hpp>

TAILOR_DATASET_PLUGIN(tailor::plugins::ImagenetLt, "imagenet_lt", "1.0.0",
                      "ImageNet-LT: 1000 classes, 115,846 train images, official lists checked.")
