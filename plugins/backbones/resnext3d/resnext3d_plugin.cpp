// resnext3d plugin entry: registers tailor::plugins::ResNeXt3dBackbone as "resnext3d".
#include "resnext3d.hpp"

#include <tailor/plugin.hpp>

TAILOR_BACKBONE_PLUGIN(tailor::plugins::ResNeXt3dBackbone, "resnext3d", "1.0.0",
                       "3D ResNeXt (cardinality 32, shortcut B) and 3D ResNet video backbones in "
                       "the 3D-ResNets layout; optional pretrained weights; [N, D] features.")
