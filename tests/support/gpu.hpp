// tests/support/gpu.hpp - the GPU a test may also check its device path on: CUDA device 0 when
// this LibTorch was built with CUDA and sees a GPU, else none (CI has none; such checks then
// say so in a WARN).
#pragma once

#include <ATen/Context.h>
#include <c10/core/Device.h>

#include <optional>

namespace tailor::test {

inline std::optional<c10::Device> gpu_if_present() {
  if (!at::hasCUDA()) return std::nullopt;
  return c10::Device(c10::kCUDA, 0);
}

}  // namespace tailor::test
