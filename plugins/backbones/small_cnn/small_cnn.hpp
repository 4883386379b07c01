// small_cnn: a four-conv BN-ReLU network for small images (MNIST-family 1x28x28 and alike).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <tailor/components.hpp>
#include <tailor/options.hpp>

#include <cstdint>

namespace tailor::plugins {

/// One expert of the multi-expert network: its own conv3, bn3, conv4, bn4 (parameters
/// experts.<k>.conv3.weight, ...).
class SmallCnnExpertImpl : public torch::nn::Module {
 public:
  torch::nn::Conv2d conv3{nullptr}, conv4{nullptr};
  torch::nn::BatchNorm2d bn3{nullptr}, bn4{nullptr};
};
TORCH_MODULE(SmallCnnExpert);

/// conv3x3(C->w) BN ReLU, conv3x3(w->w) BN ReLU, maxpool2, conv3x3(w->2w) BN ReLU, maxpool2,
/// conv3x3(2w->4w) BN ReLU, global average pool, optional dropout -> [N, 4w].
///
/// With num_experts = K > 1, conv1, bn1, conv2, bn2 (the full-resolution block) are shared and
/// each of K experts (`experts`) has its own conv3, bn3, conv4, bn4 -> [K, N, 4w].
class SmallCnnNetImpl : public torch::nn::Module {
 public:
  SmallCnnNetImpl(int64_t in_channels, int64_t width, double dropout, bool fuse_bn_relu = true,
                  int64_t num_experts = 1);

  at::Tensor forward(const at::Tensor& x);
  /// forward() with parameters looked up by name in `params` (falling back to the module's
  /// own); BN running statistics update exactly as forward() updates them. Throws
  /// tailor::Error for K > 1.
  at::Tensor forward_functional(const at::Tensor& x, const NamedTensors& params);

  /// conv3, bn3, conv4, bn4 exist with K = 1 only; `experts` with K > 1 only.
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr}, conv4{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr}, bn4{nullptr};
  torch::nn::ModuleList experts{nullptr};
  bool sync_bn = false;  ///< SyncBatchNorm in training (BackboneContext::sync_batchnorm)

 private:
  double dropout_;
  bool fuse_bn_relu_;
};
TORCH_MODULE(SmallCnnNet);

class SmallCnn final : public Backbone {
 public:
  static constexpr bool kSyncBatchNorm = true;  // honours [train] sync_batchnorm

  struct Options {
    int64_t width = 32;
    double dropout = 0.0;
    bool fuse_bn_relu = true;
    int64_t num_experts = 1;

    template <class V>
    void visit(V& v) {
      v("width", width, "Channels of the first conv; features have 4 * width dimensions.",
        tailor::at_least(1.0));
      v("dropout", dropout, "Dropout probability on the pooled features (training only).",
        tailor::range(0.0, 1.0, /*hi_open=*/true));
      v("fuse_bn_relu", fuse_bn_relu,
        "In training on channels-last CPU tensors, run each BatchNorm and the ReLU after it "
        "as one fused node: faster, statistics summed in double in a thread-count-independent "
        "order (equal to the unfused ops up to float rounding). false: ATen's batch_norm and "
        "relu.");
      v("num_experts", num_experts,
        "Experts K. 1: the network above. K > 1: conv1 and conv2 (with their BatchNorms) "
        "shared, every expert its own conv3 and conv4, as RIDE's multi-expert ResNets share "
        "the early stages; features [K, N, 4 * width]. Needs a multi-expert head (experts).",
        tailor::at_least(1.0));
    }
  };

  SmallCnn(const Options& options, const BackboneContext& context);

  torch::nn::Module& module() override { return *net_; }
  int64_t feature_dim() const override { return 4 * width_; }
  at::Tensor forward(const at::Tensor& inputs) override;
  /// Throws tailor::Error with num_experts > 1.
  at::Tensor forward_functional(const at::Tensor& inputs, const NamedTensors& params) override;
  int64_t num_experts() const override { return num_experts_; }

 private:
  int64_t width_;
  int64_t num_experts_;
  SmallCnnNet net_{nullptr};
};

}  // namespace tailor::plugins
