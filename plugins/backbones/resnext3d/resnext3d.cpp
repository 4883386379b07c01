// resnext3d: 3D ResNeXt / ResNet video backbones.
#include "resnext3d.hpp"

#include "common/weights.hpp"

#include <ATen/ops/avg_pool3d.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/max_pool3d.h>
#include <ATen/ops/relu.h>
#include <ATen/ops/zeros.h>
#include <torch/nn/init.h>
#include <torch/utils.h>

namespace tailor::plugins {

namespace {

torch::nn::Conv3d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride,
                       int64_t groups = 1) {
  // No bias: every conv feeds a BatchNorm.
  return torch::nn::Conv3d(torch::nn::Conv3dOptions(in, out, kernel)
                               .stride(stride)
                               .padding(kernel / 2)
                               .groups(groups)
                               .bias(false));
}

std::string shape_text(const std::vector<int64_t>& sizes) {
  std::string s = "[";
  for (size_t i = 0; i < sizes.size(); ++i) s += (i ? ", " : "") + std::to_string(sizes[i]);
  return s + "]";
}

}  // namespace

std::vector<int64_t> resnext3d_layers(int64_t depth) {
  switch (depth) {
    case 10:
      return {1, 1, 1, 1};
    case 18:
      return {2, 2, 2, 2};
    case 34:
    case 50:
      return {3, 4, 6, 3};
    case 101:
      return {3, 4, 23, 3};
    case 152:
      return {3, 8, 36, 3};
    case 200:
      return {3, 24, 36, 3};
    default:
      break;
  }
  TAILOR_CHECK(false, "resnext3d: [backbone] depth = ", depth,
               " is not one of 10, 18, 34, 50, 101, 152, 200");
  return {};
}

Block3dImpl::Block3dImpl(int64_t in_planes, int64_t planes, int64_t stride_, bool bottleneck_,
                         int64_t cardinality, bool shortcut_b)
    : bottleneck(bottleneck_), stride(stride_), out_planes(bottleneck_ ? 2 * planes : planes) {
  if (bottleneck) {
    const int64_t mid = cardinality * (planes / 32);
    conv1 = register_module("conv1", conv(in_planes, mid, 1, 1));
    bn1 = register_module("bn1", torch::nn::BatchNorm3d(mid));
    conv2 = register_module("conv2", conv(mid, mid, 3, stride, cardinality));
    bn2 = register_module("bn2", torch::nn::BatchNorm3d(mid));
    conv3 = register_module("conv3", conv(mid, out_planes, 1, 1));
    bn3 = register_module("bn3", torch::nn::BatchNorm3d(out_planes));
  } else {
    conv1 = register_module("conv1", conv(in_planes, planes, 3, stride));
    bn1 = register_module("bn1", torch::nn::BatchNorm3d(planes));
    conv2 = register_module("conv2", conv(planes, planes, 3, 1));
    bn2 = register_module("bn2", torch::nn::BatchNorm3d(planes));
  }
  if ((stride != 1 || in_planes != out_planes) && shortcut_b)
    downsample =
        register_module("downsample", torch::nn::Sequential(conv(in_planes, out_planes, 1, stride),
                                                            torch::nn::BatchNorm3d(out_planes)));
}

at::Tensor Block3dImpl::forward(const at::Tensor& x) {
  at::Tensor out = at::relu(bn1(conv1(x)));
  if (bottleneck) {
    out = at::relu(bn2(conv2(out)));
    out = bn3(conv3(out));
  } else {
    out = bn2(conv2(out));
  }
  at::Tensor identity = x;
  if (downsample) {
    identity = downsample->forward(x);
  } else if (stride != 1 || x.size(1) != out_planes) {
    // Type A: the reference's avg_pool3d(kernel 1, stride) and zero channels appended.
    identity = at::avg_pool3d(x, /*kernel_size=*/1, /*stride=*/stride);
    auto pad_sizes = identity.sizes().vec();
    pad_sizes[1] = out_planes - identity.size(1);
    identity = at::cat({identity, at::zeros(pad_sizes, identity.options())}, 1);
  }
  return at::relu(out + identity);
}

ResNeXt3dImpl::ResNeXt3dImpl(int64_t in_channels, int64_t depth, bool bottleneck, int64_t width,
                             int64_t stem_width, int64_t cardinality, bool shortcut_b) {
  const std::vector<int64_t> blocks = resnext3d_layers(depth);
  conv1 = register_module("conv1",
                          torch::nn::Conv3d(torch::nn::Conv3dOptions(in_channels, stem_width, 7)
                                                .stride({1, 2, 2})
                                                .padding(3)
                                                .bias(false)));
  bn1 = register_module("bn1", torch::nn::BatchNorm3d(stem_width));
  int64_t in_planes = stem_width;
  torch::nn::ModuleList* layers[] = {&layer1, &layer2, &layer3, &layer4};
  for (size_t s = 0; s < 4; ++s) {
    const int64_t planes = width << s;
    torch::nn::ModuleList layer;
    for (int64_t i = 0; i < blocks[s]; ++i) {
      Block3d block(in_planes, planes, i == 0 && s > 0 ? 2 : 1, bottleneck, cardinality,
                    shortcut_b);
      in_planes = block->out_planes;
      layer->push_back(block);
    }
    *layers[s] = register_module("layer" + std::to_string(s + 1), layer);
  }
  // The reference initialisation: kaiming_normal_(fan_out) on convs, BN weight 1 and bias 0.
  torch::NoGradGuard no_grad;
  for (auto& item : named_parameters(/*recurse=*/true))
    if (item.value().dim() == 5)
      torch::nn::init::kaiming_normal_(item.value(), /*a=*/0.0, torch::kFanOut, torch::kReLU);
}

at::Tensor ResNeXt3dImpl::forward(const at::Tensor& input) {
  at::Tensor x = at::relu(bn1(conv1(input)));
  x = at::max_pool3d(x, /*kernel_size=*/3, /*stride=*/2, /*padding=*/1);
  for (auto* layer : {&layer1, &layer2, &layer3, &layer4})
    for (size_t i = 0; i < (*layer)->size(); ++i) x = (*layer)->at<Block3dImpl>(i).forward(x);
  return x.mean({2, 3, 4});
}

ResNeXt3dBackbone::ResNeXt3dBackbone(const Options& o, const BackboneContext& context) {
  const auto& shape = context.sample_shape;
  TAILOR_CHECK(shape.size() == 4 && shape[0] >= 1,
               "resnext3d: expects video samples [C, T, H, W], "
               "got ",
               shape_text(shape), "; use a video dataset (e.g. egtea) or an image backbone");
  const bool bottleneck = o.block == Options::Block::kResnext;
  const int64_t width = o.width > 0 ? o.width : (bottleneck ? 128 : 64);
  if (bottleneck)
    TAILOR_CHECK(width >= 32 && width % 32 == 0, "resnext3d: [backbone] width = ", width, " gives ",
                 width / 32,
                 " channels per group (planes / 32); block = \"resnext\" "
                 "needs a width that is a positive multiple of 32 (the reference uses 128)");
  feature_dim_ = 8 * width * (bottleneck ? 2 : 1);
  net_ = ResNeXt3d(shape[0], o.depth, bottleneck, width, o.stem_width, o.cardinality,
                   o.shortcut == Options::Shortcut::kB);
  if (!o.pretrained.empty())
    load_weights(*net_, read_weight_file(o.pretrained, "resnext3d"), o.pretrained, "resnext3d",
                 "Set [backbone] depth, block, width, cardinality and shortcut to the checkpoint's "
                 "architecture (resnext-101-kinetics: depth 101, block \"resnext\", cardinality 32, "
                 "shortcut \"B\")");
}

at::Tensor ResNeXt3dBackbone::forward(const at::Tensor& inputs) {
  return net_->forward(inputs);
}

}  // namespace tailor::plugins
