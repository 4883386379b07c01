// tailor/payload.hpp - what the opaque C handles are underneath (same LibTorch build only).
//
// Used by the generated trampolines and by the host. Valid only between a host and a plugin
// whose build fingerprints match, which the host proves before it loads a plugin.
#pragma once

#include <ATen/Tensor.h>
#include <torch/nn/module.h>

#include <tailor/abi.h>

namespace tailor::payload {

/// The at::Tensor behind a handle.
inline at::Tensor& tensor(TailorTensor h) { return *reinterpret_cast<at::Tensor*>(h); }
/// A borrowed handle to `t`; valid while `t` lives.
inline TailorTensor handle(at::Tensor& t) { return reinterpret_cast<TailorTensor>(&t); }
/// A handle to a const tensor: the callee only reads it (at::Tensor is a reference type).
inline TailorTensor handle(const at::Tensor& t) { return handle(const_cast<at::Tensor&>(t)); }

/// The torch::nn::Module behind a handle.
inline torch::nn::Module& module(TailorModule h) {
  return *reinterpret_cast<torch::nn::Module*>(h);
}
/// A borrowed handle to `m`.
inline TailorModule handle(torch::nn::Module& m) { return reinterpret_cast<TailorModule>(&m); }

}  // namespace tailor::payload
