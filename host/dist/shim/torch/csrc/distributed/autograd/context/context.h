// A stand-in for LibTorch's torch/csrc/distributed/autograd/context/context.h, which
// c10d/reducer.hpp includes but Debian's libtorch-dev does not ship. The Reducer names only
// the GradCallback type (a static_assert checks it equals its own) and holds contexts through
// shared and raw pointers, so a declaration with upstream 1.13's GradCallback suffices.
// tailor never uses distributed autograd; nothing here may be instantiated.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>

namespace torch {
namespace distributed {
namespace autograd {

class DistAutogradContext {
 public:
  using GradCallback = std::function<bool(at::Tensor&)>;
  DistAutogradContext() = delete;
};

using ContextPtr = std::shared_ptr<DistAutogradContext>;

}  // namespace autograd
}  // namespace distributed
}  // namespace torch
