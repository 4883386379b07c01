// resnet32_cifar: He et al.'s three-stage CIFAR ResNet (ResNet-20/32/44/56/110) as a backbone.
#include "resnet32_cifar.hpp"

#include "common/batch_norm.hpp"
#include "common/bn_relu.hpp"

#include <ATen/ops/_add_relu.h>
#include <ATen/ops/avg_pool2d.h>
#include <ATen/ops/constant_pad_nd.h>
#include <ATen/ops/conv2d.h>
#include <ATen/ops/relu.h>
#include <ATen/ops/rsqrt.h>
#include <c10/core/GradMode.h>
#include <torch/nn/init.h>
#include <torch/utils.h>

#include <string>
#include <unordered_map>
#include <vector>

namespace tailor::plugins {

namespace {

torch::nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride) {
  // No bias: every conv feeds a BatchNorm.
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, /*kernel_size=*/3).stride(stride).padding(1).bias(false));
}

std::string shape_text(at::IntArrayRef sizes) {
  std::string s = "[";
  for (size_t i = 0; i < sizes.size(); ++i) s += (i ? ", " : "") + std::to_string(sizes[i]);
  return s + "]";
}

// bn(conv(x)) for a bias-free 3x3 conv with padding 1. In evaluation mode without autograd,
// with `fold`, BatchNorm's affine map is folded into the conv's weight and bias: one pass over
// the activations instead of two (the folding itself touches only the small weights).
at::Tensor conv_bn(const at::Tensor& x, torch::nn::Conv2d& conv, torch::nn::BatchNorm2d& bn,
                   int64_t stride, bool fold) {
  if (!fold || bn->is_training() || at::GradMode::is_enabled() ||
      !bn->options.track_running_stats())
    return bn(conv(x));
  const at::Tensor scale = bn->weight * at::rsqrt(bn->running_var + bn->options.eps());
  const at::Tensor weight = conv->weight * scale.view({-1, 1, 1, 1});
  const at::Tensor bias = bn->bias - bn->running_mean * scale;
  return at::conv2d(x, weight, bias, {stride, stride}, {1, 1});
}

// relu(bn(conv(x)) [+ residual]). Training with fuse_bn_relu may take the fused node;
// evaluation may fold the BatchNorm into the conv.
at::Tensor conv_bn_relu(const at::Tensor& x, torch::nn::Conv2d& conv, torch::nn::BatchNorm2d& bn,
                        int64_t stride, const CifarBnOptions& opt,
                        const at::Tensor& residual = {}) {
  if (bn->is_training()) return bn_relu(conv(x), bn, opt.fuse_bn_relu, residual, opt.sync);
  at::Tensor y = conv_bn(x, conv, bn, stride, opt.fold_bn_eval);
  if (at::GradMode::is_enabled()) return at::relu(residual.defined() ? y + residual : y);
  // Nothing records y: add and ReLU in place, on CPU in one pass (same arithmetic).
  if (!residual.defined()) return at::relu_(y);
  return y.is_cpu() ? at::_add_relu_(y, residual) : at::relu_(y.add_(residual));
}

// The blocks of one stage, in order. Reads `x`, never writes it: experts share their input.
at::Tensor run_stage(torch::nn::ModuleList& layer, at::Tensor x) {
  for (size_t i = 0; i < layer->size(); ++i) x = layer->at<CifarBasicBlockImpl>(i).forward(x);
  return x;
}

}  // namespace

CifarBasicBlockImpl::CifarBasicBlockImpl(int64_t in_planes_, int64_t planes_, int64_t stride_,
                                         CifarShortcut shortcut, CifarBnOptions bn_options_)
    : in_planes(in_planes_),
      planes(planes_),
      stride(stride_),
      shortcut_kind(shortcut),
      bn_options(bn_options_) {
  conv1 = register_module("conv1", conv3x3(in_planes, planes, stride));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(planes));
  conv2 = register_module("conv2", conv3x3(planes, planes, 1));
  bn2 = register_module("bn2", torch::nn::BatchNorm2d(planes));
}

at::Tensor CifarBasicBlockImpl::shortcut(const at::Tensor& x) const {
  if (stride == 1 && in_planes == planes) return x;
  at::Tensor y;
  if (shortcut_kind == CifarShortcut::kSubsamplePad) {
    y = x.slice(2, 0, c10::nullopt, stride).slice(3, 0, c10::nullopt, stride);
  } else {
    // TF 'SAME' pooling with kernel = stride: for odd sizes the last window is partial and
    // averages only the pixels it covers.
    y = at::avg_pool2d(x, {stride, stride}, {stride, stride}, {0, 0}, /*ceil_mode=*/true,
                       /*count_include_pad=*/false);
  }
  const int64_t before = (planes - in_planes) / 2;
  return at::constant_pad_nd(y, {0, 0, 0, 0, before, planes - in_planes - before}, 0);
}

at::Tensor CifarBasicBlockImpl::forward(const at::Tensor& x) {
  const at::Tensor out = conv_bn_relu(x, conv1, bn1, stride, bn_options);
  return conv_bn_relu(out, conv2, bn2, 1, bn_options, shortcut(x));
}

ResNetCifarImpl::ResNetCifarImpl(int64_t in_channels, int64_t depth, CifarShortcut shortcut,
                                 bool channels_last, CifarBnOptions bn_options,
                                 CifarExpertOptions expert_options)
    : channels_last_(channels_last),
      bn_options_(bn_options),
      feature_dim_(expert_options.num_experts > 1 ? expert_options.layer3_width : 64) {
  const int64_t blocks = (depth - 2) / 6;
  conv1 = register_module("conv1", conv3x3(in_channels, 16, 1));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(16));
  int64_t in_planes = 16;
  auto stage = [&](int64_t planes, int64_t stride) {
    torch::nn::ModuleList layer;
    for (int64_t i = 0; i < blocks; ++i) {
      layer->push_back(
          CifarBasicBlock(in_planes, planes, i == 0 ? stride : 1, shortcut, bn_options));
      in_planes = planes;
    }
    return layer;
  };
  layer1 = register_module("layer1", stage(16, 1));
  if (expert_options.num_experts == 1) {
    layer2 = register_module("layer2", stage(32, 2));
    layer3 = register_module("layer3", stage(64, 2));
  } else {
    // RIDE's ResNet_s: every expert's layer2 starts from layer1's 16 channels.
    experts = register_module("experts", torch::nn::ModuleList());
    for (int64_t k = 0; k < expert_options.num_experts; ++k) {
      in_planes = 16;
      CifarExpert expert;
      expert->layer2 = expert->register_module("layer2", stage(expert_options.layer2_width, 2));
      expert->layer3 = expert->register_module("layer3", stage(expert_options.layer3_width, 2));
      experts->push_back(expert);
    }
  }

  // LDAM-DRW's _weights_init: kaiming_normal_ with PyTorch's defaults (fan_in, gain sqrt(2)) on
  // every conv; BatchNorm keeps weight 1, bias 0.
  torch::NoGradGuard no_grad;
  for (auto& item : named_parameters(/*recurse=*/true)) {
    at::Tensor& p = item.value();
    if (p.dim() != 4) continue;
    torch::nn::init::kaiming_normal_(p, /*a=*/0.0, torch::kFanIn, torch::kLeakyReLU);
    if (channels_last_) p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
  }
}

at::Tensor ResNetCifarImpl::forward(const at::Tensor& input) {
  at::Tensor x = channels_last_ ? input.contiguous(at::MemoryFormat::ChannelsLast) : input;
  x = conv_bn_relu(x, conv1, bn1, 1, bn_options_);
  x = run_stage(layer1, x);
  if (experts.is_empty()) return run_stage(layer3, run_stage(layer2, x)).mean({2, 3});
  std::vector<at::Tensor> features;
  for (size_t k = 0; k < experts->size(); ++k) {
    auto& expert = experts->at<CifarExpertImpl>(k);
    features.push_back(run_stage(expert.layer3, run_stage(expert.layer2, x)).mean({2, 3}));
  }
  return at::stack(features);
}

at::Tensor ResNetCifarImpl::forward_functional(const at::Tensor& input,
                                               const NamedTensors& params) {
  TAILOR_CHECK(experts.is_empty(), "resnet32_cifar: no functional forward with num_experts > 1 (",
               experts->size(), " experts); [meta] scope = \"full\" needs num_experts = 1");
  const auto own = named_parameters(/*recurse=*/true);
  std::unordered_map<std::string, at::Tensor> given;
  for (const auto& [name, tensor] : params) {
    const at::Tensor* mine = own.find(name);
    if (mine == nullptr) {
      std::string known;
      for (size_t i = 0; i < own.size() && i < 6; ++i) known += own[i].key() + ", ";
      TAILOR_CHECK(false, "resnet32_cifar: unknown parameter '", name,
                   "' in forward_functional; names are those of named_parameters(), e.g. ", known,
                   "...");
    }
    TAILOR_CHECK(tensor.sizes() == mine->sizes(), "resnet32_cifar: parameter '", name,
                 "' has shape ", shape_text(tensor.sizes()), ", expected ",
                 shape_text(mine->sizes()));
    given[name] = tensor;
  }
  auto param = [&](const std::string& name) -> at::Tensor {
    const auto it = given.find(name);
    return it != given.end() ? it->second : own[name];
  };
  auto conv = [&](const at::Tensor& x, const std::string& name, int64_t stride) {
    return at::conv2d(x, param(name + ".weight"), /*bias=*/{}, stride, /*padding=*/1);
  };
  auto norm = [&](const at::Tensor& x, torch::nn::BatchNorm2d& bn, const std::string& name) {
    return batch_norm_with(x, bn, param(name + ".weight"), param(name + ".bias"));
  };

  at::Tensor x = channels_last_ ? input.contiguous(at::MemoryFormat::ChannelsLast) : input;
  x = at::relu(norm(conv(x, "conv1", 1), bn1, "bn1"));
  const std::pair<torch::nn::ModuleList*, const char*> layers[] = {
      {&layer1, "layer1"}, {&layer2, "layer2"}, {&layer3, "layer3"}};
  for (const auto& [layer, layer_name] : layers)
    for (size_t i = 0; i < (*layer)->size(); ++i) {
      auto& block = (*layer)->at<CifarBasicBlockImpl>(i);
      const std::string prefix = std::string(layer_name) + "." + std::to_string(i);
      at::Tensor out =
          at::relu(norm(conv(x, prefix + ".conv1", block.stride), block.bn1, prefix + ".bn1"));
      out = norm(conv(out, prefix + ".conv2", 1), block.bn2, prefix + ".bn2");
      x = at::relu(out + block.shortcut(x));
    }
  return x.mean({2, 3});
}

ResNet32Cifar::ResNet32Cifar(const Options& options, const BackboneContext& context) {
  const auto& shape = context.sample_shape;
  TAILOR_CHECK(shape.size() == 3 && shape[0] >= 1 && shape[1] >= 1 && shape[2] >= 1,
               "resnet32_cifar: expects image samples [C, H, W], got ", shape_text(shape),
               "; use an image dataset or another backbone");
  TAILOR_CHECK(options.depth >= 8 && (options.depth - 2) % 6 == 0, "resnet32_cifar: depth ",
               options.depth, " is not 6n + 2; use 20, 32, 44, 56 or 110");
  TAILOR_CHECK(options.num_experts >= 1, "resnet32_cifar: num_experts is ", options.num_experts,
               "; it must be at least 1");
  const auto& widths = options.expert_widths;
  TAILOR_CHECK(widths.size() == 2 && widths[0] >= 16 && widths[1] >= widths[0],
               "resnet32_cifar: expert_widths must be [layer2, layer3] channels with 16 <= layer2 "
               "<= layer3 (the parameter-free shortcuts only add zero channels), got ",
               shape_text(widths), "; RIDE's are [24, 48], the full width [32, 64]");
  num_experts_ = options.num_experts;
  net_ = ResNetCifar(
      shape[0], options.depth, options.shortcut, options.channels_last,
      CifarBnOptions{options.fold_bn_eval, options.fuse_bn_relu, context.sync_batchnorm},
      CifarExpertOptions{options.num_experts, widths[0], widths[1]});
}

at::Tensor ResNet32Cifar::forward(const at::Tensor& inputs) {
  return net_->forward(inputs);
}

at::Tensor ResNet32Cifar::forward_functional(const at::Tensor& inputs, const NamedTensors& params) {
  return net_->forward_functional(inputs, params);
}

}  // namespace tailor::plugins
