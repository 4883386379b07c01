// The training-step speed options: bf16 autocast, channels-last and the CUDA-graph step.
// The CUDA cases run where the build and machine have a GPU (scripts/cuda-build.sh with
// TESTS=ON) and are reported as skipped elsewhere.
#include "engine/accel.hpp"

#include <ATen/ATen.h>
#include <torch/cuda.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/sgd.h>

#include <catch2/catch.hpp>

using namespace tailor::host;

TEST_CASE("AutocastGuard casts matmuls to bf16 inside its scope only", "[accel]") {
  const auto a = at::randn({4, 8}), b = at::randn({8, 3});
  {
    AutocastGuard on(at::kCPU, true);
    CHECK(at::mm(a, b).scalar_type() == at::kBFloat16);
  }
  CHECK(at::mm(a, b).scalar_type() == at::kFloat);
  AutocastGuard off(at::kCPU, false);
  CHECK(at::mm(a, b).scalar_type() == at::kFloat);
}

TEST_CASE("to_channels_last converts 4-D weights in place, values unchanged", "[accel]") {
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(3, 5, 3));
  const at::Tensor before = conv->weight.detach().clone();
  const auto* impl = conv->weight.unsafeGetTensorImpl();
  to_channels_last(*conv);
  CHECK(conv->weight.is_contiguous(at::MemoryFormat::ChannelsLast));
  CHECK(conv->weight.unsafeGetTensorImpl() == impl);  // optimizers keep their reference
  CHECK(at::equal(conv->weight.detach(), before));
  CHECK(conv->bias.dim() == 1);
  const auto x = channels_last_input(at::randn({2, 3, 6, 6}));
  CHECK(x.is_contiguous(at::MemoryFormat::ChannelsLast));
  CHECK(channels_last_input(at::randn({2, 3})).is_contiguous());
}

namespace {

// Trains a small MLP for `steps` full batches plus one partial batch through GraphedStep
// (or plainly) and returns its first weight.
at::Tensor train_mlp(c10::Device device, bool graphed) {
  torch::manual_seed(0);
  torch::nn::Linear fc1(16, 32), fc2(32, 4);
  fc1->to(device);
  fc2->to(device);
  std::vector<at::Tensor> params = fc1->parameters();
  for (auto& p : fc2->parameters()) params.push_back(p);
  torch::optim::SGD sgd(params, torch::optim::SGDOptions(0.1).momentum(0.9));
  auto body = [&](const at::Tensor& x, const at::Tensor& y) {
    sgd.zero_grad();
    const auto loss = at::cross_entropy_loss(fc2(at::relu(fc1(x))), y);
    loss.backward();
    sgd.step();
    return loss.detach();
  };
  GraphedStep step(body, /*warmup=*/2);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
  for (int i = 0; i < 9; ++i) {
    const int64_t n = i == 8 ? 5 : 12;  // the last batch is partial
    const auto x = at::randn({n, 16}, gen).to(device);
    const auto y = at::randint(4, {n}, gen).to(device);
    const auto loss = graphed ? step.step(x, y) : body(x, y);
    REQUIRE(std::isfinite(loss.item<double>()));
  }
  if (graphed && device.is_cuda())
    CHECK(step.replays() == 6);  // 2 eager, 1 capture+replay, 5 replays, 1 partial
  return fc1->weight.detach().to(at::kCPU);
}

}  // namespace

TEST_CASE("GraphedStep trains like the plain step", "[accel]") {
  SECTION("CPU: the body runs as is") {
    CHECK(at::equal(train_mlp(at::kCPU, true), train_mlp(at::kCPU, false)));
  }
  SECTION("CUDA: captured and replayed") {
    if (!cuda_graphs_built() || !torch::cuda::is_available()) {
      WARN("no CUDA build or GPU: CUDA graph case skipped");
      return;
    }
    const auto graphed = train_mlp(at::Device(at::kCUDA, 0), true);
    const auto plain = train_mlp(at::Device(at::kCUDA, 0), false);
    CHECK(at::allclose(graphed, plain, 1e-5, 1e-6));
  }
}
