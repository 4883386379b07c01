// host/engine/accel.cpp
#include "engine/accel.hpp"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include <spdlog/spdlog.h>

#if TAILOR_TORCH_HAS_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#endif

#include <stdexcept>

// LibTorch 2.4 replaced the per-backend autocast switches by ones taking a device type.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define TAILOR_AUTOCAST_BY_DEVICE_TYPE 1
#else
#define TAILOR_AUTOCAST_BY_DEVICE_TYPE 0
#endif

namespace tailor::host {
namespace {

bool autocast_enabled(c10::DeviceType type) {
#if TAILOR_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::is_autocast_enabled(type);
#else
  return type == c10::DeviceType::CUDA ? at::autocast::is_enabled()
                                       : at::autocast::is_cpu_enabled();
#endif
}

void set_autocast(c10::DeviceType type, bool on) {
#if TAILOR_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_enabled(type, on);
#else
  if (type == c10::DeviceType::CUDA)
    at::autocast::set_enabled(on);
  else
    at::autocast::set_cpu_enabled(on);
#endif
}

c10::ScalarType autocast_dtype(c10::DeviceType type) {
#if TAILOR_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::get_autocast_dtype(type);
#else
  return type == c10::DeviceType::CUDA ? at::autocast::get_autocast_gpu_dtype()
                                       : at::autocast::get_autocast_cpu_dtype();
#endif
}

void set_autocast_dtype(c10::DeviceType type, c10::ScalarType dtype) {
#if TAILOR_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_dtype(type, dtype);
#else
  if (type == c10::DeviceType::CUDA)
    at::autocast::set_autocast_gpu_dtype(dtype);
  else
    at::autocast::set_autocast_cpu_dtype(dtype);
#endif
}

}  // namespace

AutocastGuard::AutocastGuard(c10::Device device, bool enabled)
    : enabled_(enabled), type_(device.type()) {
  if (!enabled_) return;
  previous_ = autocast_enabled(type_);
  previous_dtype_ = autocast_dtype(type_);
  set_autocast(type_, true);
  set_autocast_dtype(type_, c10::ScalarType::BFloat16);
  at::autocast::increment_nesting();
}

AutocastGuard::~AutocastGuard() {
  if (!enabled_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_autocast(type_, previous_);
  set_autocast_dtype(type_, previous_dtype_);
}

void to_channels_last(torch::nn::Module& module) {
  for (auto& p : module.parameters())
    if (p.dim() == 4) p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
  for (auto& b : module.buffers())
    if (b.dim() == 4) b.set_data(b.data().contiguous(at::MemoryFormat::ChannelsLast));
}

at::Tensor channels_last_input(const at::Tensor& x) {
  return x.dim() == 4 ? x.contiguous(at::MemoryFormat::ChannelsLast) : x;
}

#if TAILOR_TORCH_HAS_CUDA

bool cuda_graphs_built() {
  return true;
}

struct GraphedStep::Impl {
  Body body;
  int64_t warmup = 0;
  int64_t eager_steps = 0;
  int64_t replays = 0;
  bool disabled = false;
  std::unique_ptr<at::cuda::CUDAGraph> graph;
  at::Tensor inputs, targets, loss;  // static buffers of the captured graph

  // Runs `fn` on a side stream ordered after and before the current one, as capture needs.
  template <class F>
  void on_side_stream(F&& fn) {
    const auto current = c10::cuda::getCurrentCUDAStream();
    const auto side = c10::cuda::getStreamFromPool();
    at::cuda::CUDAEvent before, after;
    before.record(current);
    before.block(side);
    {
      c10::cuda::CUDAStreamGuard guard(side);
      fn(side);
    }
    after.record(side);
    after.block(current);
  }

  at::Tensor capture(const at::Tensor& x, const at::Tensor& y) {
    inputs = x.clone();
    targets = y.clone();
    graph = std::make_unique<at::cuda::CUDAGraph>();
    try {
      on_side_stream([&](const c10::cuda::CUDAStream& side) {
        try {
          // Thread-local mode: the loader's threads may allocate pinned memory meanwhile.
          graph->capture_begin({0, 0}, cudaStreamCaptureModeThreadLocal);
          loss = body(inputs, targets);
          graph->capture_end();
        } catch (...) {
          cudaGraph_t broken = nullptr;
          if (cudaStreamEndCapture(side.stream(), &broken) == cudaSuccess && broken != nullptr)
            cudaGraphDestroy(broken);
          throw;
        }
      });
    } catch (const std::exception& e) {
      graph.reset();
      disabled = true;
      spdlog::warn(
          "CUDA graph capture of the training step failed; training eagerly from here "
          "([train] cuda_graph = false avoids the attempt): {}",
          e.what());
      return body(x, y);
    }
    graph->replay();
    ++replays;
    return loss;
  }
};

GraphedStep::GraphedStep(Body body, int64_t warmup) : impl_(std::make_unique<Impl>()) {
  impl_->body = std::move(body);
  impl_->warmup = warmup;
}

at::Tensor GraphedStep::step(const at::Tensor& x, const at::Tensor& y) {
  Impl& s = *impl_;
  if (s.disabled || !x.is_cuda()) return s.body(x, y);
  if (s.graph) {
    if (x.sizes() != s.inputs.sizes() || y.sizes() != s.targets.sizes()) return s.body(x, y);
    s.inputs.copy_(x, /*non_blocking=*/true);
    s.targets.copy_(y, /*non_blocking=*/true);
    s.graph->replay();
    ++s.replays;
    return s.loss;
  }
  if (s.eager_steps < s.warmup) {
    ++s.eager_steps;
    at::Tensor loss;
    s.on_side_stream([&](const c10::cuda::CUDAStream&) { loss = s.body(x, y); });
    return loss;
  }
  return s.capture(x, y);
}

void GraphedStep::invalidate() {
  impl_->graph.reset();
  impl_->loss = at::Tensor();
}

#else  // CPU-only LibTorch

bool cuda_graphs_built() {
  return false;
}

struct GraphedStep::Impl {
  Body body;
  int64_t replays = 0;
};

GraphedStep::GraphedStep(Body body, int64_t /*warmup*/) : impl_(std::make_unique<Impl>()) {
  impl_->body = std::move(body);
}

at::Tensor GraphedStep::step(const at::Tensor& x, const at::Tensor& y) {
  return impl_->body(x, y);
}

void GraphedStep::invalidate() {}

#endif

GraphedStep::~GraphedStep() = default;

int64_t GraphedStep::replays() const {
  return impl_->replays;
}

}  // namespace tailor::host
