// resnet plugin entry: registers tailor::plugins::ResNetBackbone as the "resnet" backbone.
#include "resnet.hpp"

#include <tailor/plugin.hpp>

TAILOR_BACKBONE_PLUGIN(tailor::plugins::ResNetBackbone, "resnet", "1.0.0",
                       "torchvision-layout ResNet-10/18/34/50/101/152 and ResNeXt (groups, "
                       "width_per_group), optional pretrained weights; 512 or 2048-d features.")
