// resnet32_cifar: He et al.'s three-stage CIFAR ResNet (ResNet-20/32/44/56/110) as a backbone.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <tailor/components.hpp>
#include <tailor/options.hpp>

#include <cstdint>
#include <vector>

namespace tailor::plugins {

/// How a CIFAR BasicBlock's shortcut matches a change of width and resolution. Neither has
/// parameters.
enum class CifarShortcut {
  /// He et al.'s option A as LDAM-DRW codes it: x[:, :, ::2, ::2], then zero channels padded
  /// symmetrically ((out - in) / 2 on each side).
  kSubsamplePad,
  /// Class-Balanced loss's TF ResNet (model_base.py, _residual_v1): 2x2 average pool with
  /// stride 2 ('SAME'), then the same symmetric zero channel padding.
  kAvgPoolPad,
};

/// How the BatchNorms run outside forward_functional (see Options below).
struct CifarBnOptions {
  bool fold_bn_eval = true;
  bool fuse_bn_relu = true;
  bool sync = false;  ///< SyncBatchNorm in training (BackboneContext::sync_batchnorm)
};

/// RIDE's multi-expert variant of the network (ResNet_s with num_experts > 1).
struct CifarExpertOptions {
  int64_t num_experts = 1;    ///< K; 1 is the plain network (layer2, layer3 of 32, 64 channels)
  int64_t layer2_width = 24;  ///< with K > 1, channels of every expert's layer2
  int64_t layer3_width = 48;  ///< with K > 1, channels of every expert's layer3: the features
};

/// conv3x3-BN-ReLU-conv3x3-BN, plus the parameter-free shortcut, then ReLU.
class CifarBasicBlockImpl : public torch::nn::Module {
 public:
  CifarBasicBlockImpl(int64_t in_planes, int64_t planes, int64_t stride, CifarShortcut shortcut,
                      CifarBnOptions bn_options);

  at::Tensor forward(const at::Tensor& x);
  /// The shortcut branch (identity when the shape does not change).
  at::Tensor shortcut(const at::Tensor& x) const;

  int64_t in_planes, planes, stride;
  CifarShortcut shortcut_kind;
  CifarBnOptions bn_options;
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
};
TORCH_MODULE(CifarBasicBlock);

/// One expert of the multi-expert network: its own stages 2 and 3 (parameters
/// experts.<k>.layer2.*, experts.<k>.layer3.*).
class CifarExpertImpl : public torch::nn::Module {
 public:
  torch::nn::ModuleList layer2{nullptr}, layer3{nullptr};
};
TORCH_MODULE(CifarExpert);

/// The network without its classifier: conv3x3(16)-BN-ReLU, three stages of n BasicBlocks of
/// widths 16, 32, 64 (strides 1, 2, 2), global average pooling -> [N, 64]. depth = 6n + 2.
/// Parameter names follow LDAM-DRW's resnet_cifar.py (conv1, bn1, layer1.0.conv1, ...).
///
/// With expert_options.num_experts = K > 1 it is RIDE's ResNet_s instead: conv1, bn1 and
/// layer1 shared, then K experts (`experts`), each with its own layer2 and layer3 of
/// layer2_width and layer3_width channels, pooled separately -> [K, N, layer3_width].
class ResNetCifarImpl : public torch::nn::Module {
 public:
  ResNetCifarImpl(int64_t in_channels, int64_t depth, CifarShortcut shortcut, bool channels_last,
                  CifarBnOptions bn_options = {}, CifarExpertOptions expert_options = {});

  at::Tensor forward(const at::Tensor& x);
  /// forward() with parameters looked up by name in `params` (falling back to the module's
  /// own); BN running statistics update exactly as forward() updates them. Differentiable
  /// with respect to the substituted tensors. Throws tailor::Error for K > 1.
  at::Tensor forward_functional(const at::Tensor& x, const NamedTensors& params);
  /// Width of the features: 64, or layer3_width with K > 1.
  int64_t feature_dim() const { return feature_dim_; }

  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  /// layer2 and layer3 exist with K = 1 only; `experts` with K > 1 only.
  torch::nn::ModuleList layer1{nullptr}, layer2{nullptr}, layer3{nullptr};
  torch::nn::ModuleList experts{nullptr};

 private:
  bool channels_last_;
  CifarBnOptions bn_options_;
  int64_t feature_dim_;
};
TORCH_MODULE(ResNetCifar);

class ResNet32Cifar final : public Backbone {
 public:
  static constexpr bool kSyncBatchNorm = true;  // honours [train] sync_batchnorm

  struct Options {
    static constexpr auto kShortcuts =
        tailor::choice<CifarShortcut>({{"subsample_pad", CifarShortcut::kSubsamplePad},
                                       {"avgpool_pad", CifarShortcut::kAvgPoolPad}});

    int64_t depth = 32;
    CifarShortcut shortcut = CifarShortcut::kSubsamplePad;
    bool channels_last = false;
    bool fold_bn_eval = true;
    bool fuse_bn_relu = true;
    int64_t num_experts = 1;
    std::vector<int64_t> expert_widths = {24, 48};

    template <class V>
    void visit(V& v) {
      v("depth", depth,
        "6n + 2 layers, n BasicBlocks per stage: 20, 32 (default), 44, 56, 110, ...",
        tailor::at_least(8.0));
      v("shortcut", shortcut,
        "Parameter-free shortcut where the shape changes: subsample_pad (He et al.'s option A "
        "as LDAM-DRW codes it: x[:, :, ::2, ::2] + zero channels) or avgpool_pad (CB loss's TF "
        "code: 2x2 average pool + zero channels).",
        kShortcuts);
      v("channels_last", channels_last,
        "Keep conv weights and inputs in channels-last (NHWC) memory format.");
      v("fold_bn_eval", fold_bn_eval,
        "In evaluation without autograd (test passes), fold each BatchNorm into the conv "
        "before it: the same function in one pass instead of two (equal up to float "
        "rounding). false: BatchNorm as in training code, bit for bit.");
      v("fuse_bn_relu", fuse_bn_relu,
        "In training on channels-last CPU tensors, run each BatchNorm with the residual add "
        "and ReLU after it as one fused node: faster, statistics summed in double in a "
        "thread-count-independent order (equal to the unfused ops up to float rounding). "
        "false: ATen's batch_norm, add and relu.");
      v("num_experts", num_experts,
        "Experts K. 1: the network above. K > 1: RIDE's multi-expert ResNet (also SADE's): "
        "conv1, bn1 and layer1 shared, every expert its own layer2 and layer3; features "
        "[K, N, D]. Needs a multi-expert head (experts).",
        tailor::at_least(1.0));
      v("expert_widths", expert_widths,
        "Channels of every expert's layer2 and layer3 when num_experts > 1: [24, 48] is "
        "RIDE's and SADE's reduce_dimension (their CIFAR-100-LT configs), [32, 64] the full "
        "width; the second is the feature width D.",
        tailor::at_least(1.0));
    }
  };

  ResNet32Cifar(const Options& options, const BackboneContext& context);

  torch::nn::Module& module() override { return *net_; }
  int64_t feature_dim() const override { return net_->feature_dim(); }
  at::Tensor forward(const at::Tensor& inputs) override;
  /// Throws tailor::Error with num_experts > 1.
  at::Tensor forward_functional(const at::Tensor& inputs, const NamedTensors& params) override;
  int64_t num_experts() const override { return num_experts_; }

 private:
  int64_t num_experts_ = 1;
  ResNetCifar net_{nullptr};
};

}  // namespace tailor::plugins
