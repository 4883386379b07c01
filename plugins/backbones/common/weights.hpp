// backbones/common/weights: pretrained weight files for the backbone plugins.
#pragma once

#include <tailor/components.hpp>

#include <torch/nn/module.h>

#include <string>

namespace tailor::plugins {

/// Reads a weight file as name -> tensor: a TorchScript module's parameters and buffers, or
/// a zip archive holding a dict of name -> tensor (`torch.save(dict(model.state_dict()))`).
/// Files LibTorch cannot read (pre-1.6 pickles, a pickled OrderedDict) are refused with the
/// one-line Python re-save that fixes them. Errors begin with "<plugin>: [backbone]
/// pretrained = <path>".
NamedTensors read_weight_file(const std::string& path, const std::string& plugin);

/// Copies `tensors` into `module` by name: 'module.' prefixes (DataParallel) are stripped and
/// 'fc.*' (the classifier, which belongs to the host) is skipped. Every other name must
/// exist with the same shape, and every parameter and buffer but num_batches_tracked must be
/// given; otherwise nothing is copied and the error lists what differs, then `fix`.
void load_weights(torch::nn::Module& module, const NamedTensors& tensors, const std::string& path,
                  const std::string& plugin, const std::string& fix);

}  // namespace tailor::plugins
