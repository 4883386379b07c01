// small_cnn: a four-conv BN-ReLU network for small images (MNIST-family 1x28x28 and alike).
#include "small_cnn.hpp"

#include "common/batch_norm.hpp"
#include "common/bn_relu.hpp"

#include <ATen/ops/conv2d.h>
#include <ATen/ops/dropout.h>
#include <ATen/ops/max_pool2d.h>
#include <ATen/ops/relu.h>
#include <torch/nn/init.h>

#include <string>
#include <unordered_map>
#include <vector>

namespace tailor::plugins {

namespace {

torch::nn::Conv2d conv3x3(int64_t in, int64_t out) {
  // No bias: every conv feeds a BatchNorm, whose shift makes a conv bias redundant.
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, /*kernel_size=*/3).stride(1).padding(1).bias(false));
}

std::string shape_text(at::IntArrayRef sizes) {
  std::string s = "[";
  for (size_t i = 0; i < sizes.size(); ++i) s += (i ? ", " : "") + std::to_string(sizes[i]);
  return s + "]";
}

}  // namespace

SmallCnnNetImpl::SmallCnnNetImpl(int64_t in_channels, int64_t width, double dropout,
                                 bool fuse_bn_relu, int64_t num_experts)
    : dropout_(dropout), fuse_bn_relu_(fuse_bn_relu) {
  conv1 = register_module("conv1", conv3x3(in_channels, width));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(width));
  conv2 = register_module("conv2", conv3x3(width, width));
  bn2 = register_module("bn2", torch::nn::BatchNorm2d(width));
  if (num_experts == 1) {
    conv3 = register_module("conv3", conv3x3(width, 2 * width));
    bn3 = register_module("bn3", torch::nn::BatchNorm2d(2 * width));
    conv4 = register_module("conv4", conv3x3(2 * width, 4 * width));
    bn4 = register_module("bn4", torch::nn::BatchNorm2d(4 * width));
  } else {
    experts = register_module("experts", torch::nn::ModuleList());
    for (int64_t k = 0; k < num_experts; ++k) {
      SmallCnnExpert expert;
      expert->conv3 = expert->register_module("conv3", conv3x3(width, 2 * width));
      expert->bn3 = expert->register_module("bn3", torch::nn::BatchNorm2d(2 * width));
      expert->conv4 = expert->register_module("conv4", conv3x3(2 * width, 4 * width));
      expert->bn4 = expert->register_module("bn4", torch::nn::BatchNorm2d(4 * width));
      experts->push_back(expert);
    }
  }
  // He et al. initialisation as torchvision's ResNets do it (fan_out, ReLU gain); BN keeps its
  // default weight 1, bias 0.
  torch::NoGradGuard no_grad;
  std::vector<torch::nn::Conv2d*> convs = {&conv1, &conv2};
  if (num_experts == 1) {
    convs.push_back(&conv3);
    convs.push_back(&conv4);
  } else {
    for (size_t k = 0; k < experts->size(); ++k) {
      auto& expert = experts->at<SmallCnnExpertImpl>(k);
      convs.push_back(&expert.conv3);
      convs.push_back(&expert.conv4);
    }
  }
  for (auto* conv : convs)
    torch::nn::init::kaiming_normal_((*conv)->weight, /*a=*/0.0, torch::kFanOut, torch::kReLU);
}

at::Tensor SmallCnnNetImpl::forward(const at::Tensor& input) {
  at::Tensor x = bn_relu(conv1(input), bn1, fuse_bn_relu_, {}, sync_bn);
  x = bn_relu(conv2(x), bn2, fuse_bn_relu_, {}, sync_bn);
  x = at::max_pool2d(x, /*kernel_size=*/2);
  // The rest of the network: with K = 1 the module's own layers, else one expert's.
  auto rest = [&](torch::nn::Conv2d& c3, torch::nn::BatchNorm2d& b3, torch::nn::Conv2d& c4,
                  torch::nn::BatchNorm2d& b4) {
    at::Tensor y = bn_relu(c3(x), b3, fuse_bn_relu_, {}, sync_bn);
    y = at::max_pool2d(y, /*kernel_size=*/2);
    y = bn_relu(c4(y), b4, fuse_bn_relu_, {}, sync_bn);
    return y.mean({2, 3});
  };
  if (experts.is_empty()) {
    x = rest(conv3, bn3, conv4, bn4);
  } else {
    std::vector<at::Tensor> features;
    for (size_t k = 0; k < experts->size(); ++k) {
      auto& e = experts->at<SmallCnnExpertImpl>(k);
      features.push_back(rest(e.conv3, e.bn3, e.conv4, e.bn4));
    }
    x = at::stack(features);  // [K, N, 4w]
  }
  if (dropout_ > 0.0) x = at::dropout(x, dropout_, is_training());
  return x;
}

at::Tensor SmallCnnNetImpl::forward_functional(const at::Tensor& input,
                                               const NamedTensors& params) {
  TAILOR_CHECK(experts.is_empty(), "small_cnn: no functional forward with num_experts > 1 (",
               experts->size(), " experts); [meta] scope = \"full\" needs num_experts = 1");
  const auto own = named_parameters(/*recurse=*/true);
  std::unordered_map<std::string, at::Tensor> given;
  for (const auto& [name, tensor] : params) {
    const at::Tensor* mine = own.find(name);
    if (mine == nullptr) {
      std::string known;
      for (const auto& item : own) known += (known.empty() ? "" : ", ") + item.key();
      TAILOR_CHECK(false, "small_cnn: unknown parameter '", name,
                   "' in forward_functional; known names: ", known);
    }
    TAILOR_CHECK(tensor.sizes() == mine->sizes(), "small_cnn: parameter '", name, "' has shape ",
                 shape_text(tensor.sizes()), ", expected ", shape_text(mine->sizes()));
    given[name] = tensor;
  }
  auto param = [&](const std::string& name) -> at::Tensor {
    const auto it = given.find(name);
    return it != given.end() ? it->second : own[name];
  };
  auto conv = [&](const at::Tensor& x, const std::string& name) {
    return at::conv2d(x, param(name + ".weight"), /*bias=*/{}, /*stride=*/1, /*padding=*/1);
  };
  auto norm = [&](const at::Tensor& x, torch::nn::BatchNorm2d& bn, const std::string& name) {
    return batch_norm_with(x, bn, param(name + ".weight"), param(name + ".bias"));
  };

  at::Tensor x = at::relu(norm(conv(input, "conv1"), bn1, "bn1"));
  x = at::relu(norm(conv(x, "conv2"), bn2, "bn2"));
  x = at::max_pool2d(x, /*kernel_size=*/2);
  x = at::relu(norm(conv(x, "conv3"), bn3, "bn3"));
  x = at::max_pool2d(x, /*kernel_size=*/2);
  x = at::relu(norm(conv(x, "conv4"), bn4, "bn4"));
  x = x.mean({2, 3});
  if (dropout_ > 0.0) x = at::dropout(x, dropout_, is_training());
  return x;
}

SmallCnn::SmallCnn(const Options& options, const BackboneContext& context)
    : width_(options.width), num_experts_(options.num_experts) {
  const auto& shape = context.sample_shape;
  TAILOR_CHECK(shape.size() == 3 && shape[0] >= 1 && shape[1] >= 4 && shape[2] >= 4,
               "small_cnn: expects image samples [C, H, W] with H, W >= 4 (two 2x2 max-pools), "
               "got ",
               shape_text(shape), "; use an image dataset or another backbone");
  TAILOR_CHECK(options.num_experts >= 1, "small_cnn: num_experts is ", options.num_experts,
               "; it must be at least 1");
  net_ = SmallCnnNet(shape[0], options.width, options.dropout, options.fuse_bn_relu,
                     options.num_experts);
  net_->sync_bn = context.sync_batchnorm;
}

at::Tensor SmallCnn::forward(const at::Tensor& inputs) {
  return net_->forward(inputs);
}

at::Tensor SmallCnn::forward_functional(const at::Tensor& inputs, const NamedTensors& params) {
  return net_->forward_functional(inputs, params);
}

}  // namespace tailor::plugins
