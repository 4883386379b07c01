// resnet: torchvision-layout ResNet / ResNeXt backbones (depth 10..152) for ImageNet-scale data.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <tailor/components.hpp>
#include <tailor/options.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace tailor::plugins {

/// One residual block: torchvision's BasicBlock (two 3x3 convs) or Bottleneck (1x1, grouped 3x3
/// with the stride, 1x1 to 4 * planes; "ResNet v1.5"), with an optional 1x1-conv + BN
/// projection named `downsample` where the shape changes.
class ResNetBlockImpl : public torch::nn::Module {
 public:
  ResNetBlockImpl(int64_t in_planes, int64_t planes, int64_t stride, bool bottleneck,
                  int64_t groups, int64_t width_per_group);

  /// `sync`: SyncBatchNorm in training (BackboneContext::sync_batchnorm).
  at::Tensor forward(const at::Tensor& x, bool sync = false);

  bool bottleneck;
  int64_t stride;
  int64_t groups;
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::Sequential downsample{nullptr};   ///< [conv1x1, BN] or absent
  torch::nn::Conv2d downsample_conv{nullptr};  ///< the modules inside `downsample`
  torch::nn::BatchNorm2d downsample_bn{nullptr};
};
TORCH_MODULE(ResNetBlock);

/// Stages per depth: blocks per stage and block type, as torchvision (and, for depth 10, the
/// OLTR / Decoupling ResNet-10).
struct ResNetArch {
  std::vector<int64_t> blocks;
  bool bottleneck;
};
/// The architecture of `depth` (10, 18, 34, 50, 101, 152); throws tailor::Error otherwise.
ResNetArch resnet_arch(int64_t depth);

/// torchvision's ResNet without `fc`: conv7x7/2 - BN - ReLU - maxpool3x3/2, four stages
/// (64, 128, 256, 512 planes; strides 1, 2, 2, 2), global average pooling -> [N, 512 * expansion].
/// Parameter and buffer names are torchvision's, so its state dicts load by name.
class ResNetImpl : public torch::nn::Module {
 public:
  ResNetImpl(int64_t in_channels, int64_t depth, int64_t groups, int64_t width_per_group,
             bool zero_init_residual, bool channels_last);

  at::Tensor forward(const at::Tensor& x);
  /// forward() with parameters looked up by name in `params` (falling back to the module's
  /// own); BN running statistics update exactly as forward() updates them.
  at::Tensor forward_functional(const at::Tensor& x, const NamedTensors& params);

  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  torch::nn::ModuleList layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
  bool sync_bn = false;  ///< SyncBatchNorm in training (BackboneContext::sync_batchnorm)

 private:
  bool channels_last_;
};
TORCH_MODULE(ResNet);

class ResNetBackbone final : public Backbone {
 public:
  static constexpr bool kSyncBatchNorm = true;  // honours [train] sync_batchnorm

  struct Options {
    int64_t depth = 50;
    int64_t groups = 1;
    int64_t width_per_group = 64;
    bool zero_init_residual = false;
    bool channels_last = false;
    std::string pretrained;

    template <class V>
    void visit(V& v) {
      v("depth", depth,
        "10, 18, 34 (basic blocks) or 50, 101, 152 (bottlenecks); 10 is [1,1,1,1] basic "
        "blocks as in OLTR / Decoupling.",
        tailor::range(10.0, 152.0));
      v("groups", groups, "Groups of the 3x3 bottleneck convs (ResNeXt cardinality).",
        tailor::at_least(1.0));
      v("width_per_group", width_per_group,
        "Bottleneck width per group; width = int(planes * width_per_group / 64) * groups.",
        tailor::at_least(1.0));
      v("zero_init_residual", zero_init_residual,
        "Start each residual branch at zero (last BN weight of every block = 0).");
      v("channels_last", channels_last,
        "Keep conv weights and inputs in channels-last (NHWC) memory format.");
      v("pretrained", pretrained,
        "Weights to load: a plain dict name -> tensor saved with torch.save, or a TorchScript "
        "archive; \"\" = train from scratch.");
    }
  };

  ResNetBackbone(const Options& options, const BackboneContext& context);

  torch::nn::Module& module() override { return *net_; }
  int64_t feature_dim() const override { return feature_dim_; }
  at::Tensor forward(const at::Tensor& inputs) override;
  at::Tensor forward_functional(const at::Tensor& inputs, const NamedTensors& params) override;

 private:
  int64_t feature_dim_;
  ResNet net_{nullptr};
};

}  // namespace tailor::plugins
