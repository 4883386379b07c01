// resnext3d: 3D ResNeXt / ResNet video backbones in the layout of Hara et al.'s 3D-ResNets
// (CVPR 2018), the Kinetics-pretrained networks that CDB-loss fine-tunes on EGTEA Gaze+.
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

/// Blocks per stage of `depth` (10, 18, 34, 50, 101, 152, 200); throws tailor::Error otherwise.
std::vector<int64_t> resnext3d_layers(int64_t depth);

/// One residual block. ResNeXt bottleneck (expansion 2): 1x1x1 to cardinality * (planes / 32)
/// channels, grouped 3x3x3 with the stride, 1x1x1 to 2 * planes. Basic block (expansion 1): two
/// 3x3x3 convs. Where the shape changes the shortcut is type B, `downsample` = [1x1x1 conv
/// with the stride, BN], or type A, strided identity zero-padded in channels (no parameters).
class Block3dImpl : public torch::nn::Module {
 public:
  Block3dImpl(int64_t in_planes, int64_t planes, int64_t stride, bool bottleneck,
              int64_t cardinality, bool shortcut_b);

  at::Tensor forward(const at::Tensor& x);

  bool bottleneck;
  int64_t stride;
  int64_t out_planes;
  torch::nn::Conv3d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::BatchNorm3d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::Sequential downsample{nullptr};  ///< [conv, BN] (type B) or absent
};
TORCH_MODULE(Block3d);

/// Stem conv 7x7x7 stride (1, 2, 2) pad 3 - BN - ReLU - max-pool 3x3x3 stride 2 pad 1, four
/// stages (planes width, 2 width, 4 width, 8 width; strides 1, 2, 2, 2), global average
/// pooling over (T, H, W) -> [N, 8 * width * expansion]. Names are those of the reference
/// implementation's state dicts (conv1, bn1, layer1.0.conv1, layer1.0.downsample.0, ...).
class ResNeXt3dImpl : public torch::nn::Module {
 public:
  ResNeXt3dImpl(int64_t in_channels, int64_t depth, bool bottleneck, int64_t width,
                int64_t stem_width, int64_t cardinality, bool shortcut_b);

  at::Tensor forward(const at::Tensor& x);

  torch::nn::Conv3d conv1{nullptr};
  torch::nn::BatchNorm3d bn1{nullptr};
  torch::nn::ModuleList layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
};
TORCH_MODULE(ResNeXt3d);

class ResNeXt3dBackbone final : public Backbone {
 public:
  struct Options {
    enum class Block { kResnext, kBasic };
    static constexpr auto kBlocks =
        tailor::choice<Block>({{"resnext", Block::kResnext}, {"basic", Block::kBasic}});
    enum class Shortcut { kA, kB };
    static constexpr auto kShortcuts =
        tailor::choice<Shortcut>({{"A", Shortcut::kA}, {"B", Shortcut::kB}});

    int64_t depth = 101;
    Block block = Block::kResnext;
    int64_t width = 0;
    int64_t stem_width = 64;
    int64_t cardinality = 32;
    Shortcut shortcut = Shortcut::kB;
    std::string pretrained;

    template <class V>
    void visit(V& v) {
      v("depth", depth,
        "Blocks per stage: 10 [1,1,1,1], 18 [2,2,2,2], 34 and 50 [3,4,6,3], 101 [3,4,23,3], 152 "
        "[3,8,36,3], 200 [3,24,36,3].",
        tailor::range(10.0, 200.0));
      v("block", block,
        "resnext: bottleneck, expansion 2, grouped 3x3x3 conv; basic: two 3x3x3 convs "
        "(3D ResNet-18/34).",
        kBlocks);
      v("width", width,
        "Planes of the first stage (doubled per stage); 0: 128 for resnext, 64 for basic.",
        tailor::at_least(0.0));
      v("stem_width", stem_width, "Output channels of the 7x7x7 stem conv.", tailor::at_least(1.0));
      v("cardinality", cardinality,
        "resnext: groups of the 3x3x3 conv; its width is cardinality * (planes / 32).",
        tailor::at_least(1.0));
      v("shortcut", shortcut,
        "Projection where the shape changes: B (1x1x1 conv + BN, CDB's choice) or A (strided "
        "identity, zero-padded channels).",
        kShortcuts);
      v("pretrained", pretrained,
        "Weights to load: a plain dict name -> tensor saved with torch.save, or a TorchScript "
        "archive; \"\" = train from scratch.");
    }
  };

  ResNeXt3dBackbone(const Options& options, const BackboneContext& context);

  torch::nn::Module& module() override { return *net_; }
  int64_t feature_dim() const override { return feature_dim_; }
  at::Tensor forward(const at::Tensor& inputs) override;

 private:
  int64_t feature_dim_;
  ResNeXt3d net_{nullptr};
};

}  // namespace tailor::plugins
