// resnet: torchvision-layout ResNet / ResNeXt backbones (depth 10..152) for ImageNet-scale data.
#include "resnet.hpp"

#include "common/batch_norm.hpp"
#include "common/weights.hpp"

#include <ATen/ops/conv2d.h>
#include <ATen/ops/max_pool2d.h>
#include <ATen/ops/relu.h>
#include <torch/nn/init.h>
#include <torch/utils.h>

#include <array>
#include <unordered_map>

namespace tailor::plugins {

namespace {

constexpr int64_t kExpansion = 4;  // bottleneck output = 4 * planes

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride,
                       int64_t groups = 1) {
  // No bias: every conv feeds a BatchNorm.
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel)
                               .stride(stride)
                               .padding(kernel / 2)
                               .groups(groups)
                               .bias(false));
}

std::string shape_text(at::IntArrayRef sizes) {
  std::string s = "[";
  for (size_t i = 0; i < sizes.size(); ++i) s += (i ? ", " : "") + std::to_string(sizes[i]);
  return s + "]";
}

}  // namespace

ResNetArch resnet_arch(int64_t depth) {
  switch (depth) {
    case 10:
      return {{1, 1, 1, 1}, false};
    case 18:
      return {{2, 2, 2, 2}, false};
    case 34:
      return {{3, 4, 6, 3}, false};
    case 50:
      return {{3, 4, 6, 3}, true};
    case 101:
      return {{3, 4, 23, 3}, true};
    case 152:
      return {{3, 8, 36, 3}, true};
    default:
      break;
  }
  TAILOR_CHECK(false, "resnet: depth ", depth, " is not one of 10, 18, 34, 50, 101, 152");
  return {};
}

ResNetBlockImpl::ResNetBlockImpl(int64_t in_planes, int64_t planes, int64_t stride_,
                                 bool bottleneck_, int64_t groups_, int64_t width_per_group)
    : bottleneck(bottleneck_), stride(stride_), groups(groups_) {
  const int64_t out_planes = bottleneck ? planes * kExpansion : planes;
  if (bottleneck) {
    const int64_t width = static_cast<int64_t>(static_cast<double>(planes) *
                                               (static_cast<double>(width_per_group) / 64.0)) *
                          groups;
    conv1 = register_module("conv1", conv(in_planes, width, 1, 1));
    bn1 = register_module("bn1", torch::nn::BatchNorm2d(width));
    conv2 = register_module("conv2", conv(width, width, 3, stride, groups));
    bn2 = register_module("bn2", torch::nn::BatchNorm2d(width));
    conv3 = register_module("conv3", conv(width, out_planes, 1, 1));
    bn3 = register_module("bn3", torch::nn::BatchNorm2d(out_planes));
  } else {
    conv1 = register_module("conv1", conv(in_planes, planes, 3, stride));
    bn1 = register_module("bn1", torch::nn::BatchNorm2d(planes));
    conv2 = register_module("conv2", conv(planes, planes, 3, 1));
    bn2 = register_module("bn2", torch::nn::BatchNorm2d(planes));
  }
  if (stride != 1 || in_planes != out_planes) {
    downsample_conv = conv(in_planes, out_planes, 1, stride);
    downsample_bn = torch::nn::BatchNorm2d(out_planes);
    downsample =
        register_module("downsample", torch::nn::Sequential(downsample_conv, downsample_bn));
  }
}

at::Tensor ResNetBlockImpl::forward(const at::Tensor& x, bool sync) {
  at::Tensor out = at::relu(bn_forward(conv1(x), bn1, sync));
  if (bottleneck) {
    out = at::relu(bn_forward(conv2(out), bn2, sync));
    out = bn_forward(conv3(out), bn3, sync);
  } else {
    out = bn_forward(conv2(out), bn2, sync);
  }
  return at::relu(out + (downsample ? bn_forward(downsample_conv(x), downsample_bn, sync) : x));
}

ResNetImpl::ResNetImpl(int64_t in_channels, int64_t depth, int64_t groups, int64_t width_per_group,
                       bool zero_init_residual, bool channels_last)
    : channels_last_(channels_last) {
  const ResNetArch arch = resnet_arch(depth);
  conv1 = register_module("conv1", conv(in_channels, 64, 7, 2));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(64));
  int64_t in_planes = 64;
  torch::nn::ModuleList* layers[] = {&layer1, &layer2, &layer3, &layer4};
  for (size_t s = 0; s < 4; ++s) {
    const int64_t planes = int64_t{64} << s;
    torch::nn::ModuleList layer;
    for (int64_t i = 0; i < arch.blocks[s]; ++i) {
      layer->push_back(ResNetBlock(in_planes, planes, i == 0 && s > 0 ? 2 : 1, arch.bottleneck,
                                   groups, width_per_group));
      in_planes = arch.bottleneck ? planes * kExpansion : planes;
    }
    *layers[s] = register_module("layer" + std::to_string(s + 1), layer);
  }

  // torchvision's initialisation: kaiming_normal_(fan_out, relu) on convs, BN weight 1 bias 0;
  // zero_init_residual zeroes the last BN weight of every block.
  torch::NoGradGuard no_grad;
  for (auto& item : named_parameters(/*recurse=*/true)) {
    at::Tensor& p = item.value();
    if (p.dim() == 4) torch::nn::init::kaiming_normal_(p, /*a=*/0.0, torch::kFanOut, torch::kReLU);
  }
  if (zero_init_residual)
    for (auto* layer : layers)
      for (size_t i = 0; i < (*layer)->size(); ++i) {
        auto& block = (*layer)->at<ResNetBlockImpl>(i);
        (block.bottleneck ? block.bn3 : block.bn2)->weight.zero_();
      }
  if (channels_last_)
    for (auto& item : named_parameters(/*recurse=*/true))
      if (item.value().dim() == 4)
        item.value().set_data(item.value().data().contiguous(at::MemoryFormat::ChannelsLast));
}

at::Tensor ResNetImpl::forward(const at::Tensor& input) {
  at::Tensor x = channels_last_ ? input.contiguous(at::MemoryFormat::ChannelsLast) : input;
  x = at::relu(bn_forward(conv1(x), bn1, sync_bn));
  x = at::max_pool2d(x, /*kernel_size=*/3, /*stride=*/2, /*padding=*/1);
  for (auto* layer : {&layer1, &layer2, &layer3, &layer4})
    for (size_t i = 0; i < (*layer)->size(); ++i)
      x = (*layer)->at<ResNetBlockImpl>(i).forward(x, sync_bn);
  return x.mean({2, 3});
}

at::Tensor ResNetImpl::forward_functional(const at::Tensor& input, const NamedTensors& params) {
  const auto own = named_parameters(/*recurse=*/true);
  std::unordered_map<std::string, at::Tensor> given;
  for (const auto& [name, tensor] : params) {
    const at::Tensor* mine = own.find(name);
    TAILOR_CHECK(mine != nullptr, "resnet: unknown parameter '", name,
                 "' in forward_functional; names are those of named_parameters(), e.g. "
                 "conv1.weight, layer1.0.conv1.weight, layer2.0.downsample.0.weight");
    TAILOR_CHECK(tensor.sizes() == mine->sizes(), "resnet: parameter '", name, "' has shape ",
                 shape_text(tensor.sizes()), ", expected ", shape_text(mine->sizes()));
    given[name] = tensor;
  }
  auto param = [&](const std::string& name) -> at::Tensor {
    const auto it = given.find(name);
    return it != given.end() ? it->second : own[name];
  };
  auto conv = [&](const at::Tensor& x, const std::string& name, const torch::nn::Conv2d& c) {
    // Every convolution here pads by half its kernel; reading o.padding() would need the
    // variant accessor, which differs between LibTorch releases.
    const auto& o = c->options;
    const auto& k = *o.kernel_size();
    const std::array<int64_t, 2> padding = {k[0] / 2, k[1] / 2};
    return at::conv2d(x, param(name + ".weight"), /*bias=*/{}, o.stride(), padding, o.dilation(),
                      o.groups());
  };
  auto norm = [&](const at::Tensor& x, torch::nn::BatchNorm2d& bn, const std::string& name) {
    return batch_norm_with(x, bn, param(name + ".weight"), param(name + ".bias"));
  };

  at::Tensor x = channels_last_ ? input.contiguous(at::MemoryFormat::ChannelsLast) : input;
  x = at::relu(norm(conv(x, "conv1", conv1), bn1, "bn1"));
  x = at::max_pool2d(x, /*kernel_size=*/3, /*stride=*/2, /*padding=*/1);
  const std::pair<torch::nn::ModuleList*, const char*> layers[] = {
      {&layer1, "layer1"}, {&layer2, "layer2"}, {&layer3, "layer3"}, {&layer4, "layer4"}};
  for (const auto& [layer, layer_name] : layers)
    for (size_t i = 0; i < (*layer)->size(); ++i) {
      auto& b = (*layer)->at<ResNetBlockImpl>(i);
      const std::string p = std::string(layer_name) + "." + std::to_string(i) + ".";
      at::Tensor out = at::relu(norm(conv(x, p + "conv1", b.conv1), b.bn1, p + "bn1"));
      if (b.bottleneck) {
        out = at::relu(norm(conv(out, p + "conv2", b.conv2), b.bn2, p + "bn2"));
        out = norm(conv(out, p + "conv3", b.conv3), b.bn3, p + "bn3");
      } else {
        out = norm(conv(out, p + "conv2", b.conv2), b.bn2, p + "bn2");
      }
      const at::Tensor identity = b.downsample
                                      ? norm(conv(x, p + "downsample.0", b.downsample_conv),
                                             b.downsample_bn, p + "downsample.1")
                                      : x;
      x = at::relu(out + identity);
    }
  return x.mean({2, 3});
}

ResNetBackbone::ResNetBackbone(const Options& options, const BackboneContext& context) {
  const auto& shape = context.sample_shape;
  TAILOR_CHECK(shape.size() == 3 && shape[0] >= 1, "resnet: expects image samples [C, H, W], got ",
               shape_text(shape), "; use an image dataset or another backbone");
  const ResNetArch arch = resnet_arch(options.depth);
  TAILOR_CHECK(arch.bottleneck || (options.groups == 1 && options.width_per_group == 64),
               "resnet: depth ", options.depth,
               " uses basic blocks, which support only groups = 1 and width_per_group = 64 (as "
               "torchvision); got groups = ",
               options.groups, ", width_per_group = ", options.width_per_group,
               "; use depth 50, 101 or 152 for ResNeXt");
  feature_dim_ = 512 * (arch.bottleneck ? kExpansion : 1);
  net_ = ResNet(shape[0], options.depth, options.groups, options.width_per_group,
                options.zero_init_residual, options.channels_last);
  net_->sync_bn = context.sync_batchnorm;
  if (!options.pretrained.empty())
    load_weights(*net_, read_weight_file(options.pretrained, "resnet"), options.pretrained,
                 "resnet",
                 "Check depth, groups and width_per_group against the checkpoint's architecture "
                 "(names are torchvision's)");
}

at::Tensor ResNetBackbone::forward(const at::Tensor& inputs) {
  return net_->forward(inputs);
}

at::Tensor ResNetBackbone::forward_functional(const at::Tensor& inputs,
                                              const NamedTensors& params) {
  return net_->forward_functional(inputs, params);
}

}  // namespace tailor::plugins
