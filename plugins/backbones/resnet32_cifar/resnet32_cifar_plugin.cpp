// resnet32_cifar plugin entry: registers tailor::plugins::ResNet32Cifar as "resnet32_cifar".
#include "resnet32_cifar.hpp"

#include <tailor/plugin.hpp>

TAILOR_BACKBONE_PLUGIN(tailor::plugins::ResNet32Cifar, "resnet32_cifar", "1.0.0",
                       "He et al.'s CIFAR ResNet (6n+2 layers, widths 16/32/64, parameter-free "
                       "shortcuts); 64-d features.")
