// tailor/version.hpp - SDK version and the build fingerprint stamped into every plugin.
//
// The CMake package (TailorSDK) defines, on every target that links Tailor::sdk:
//   TAILOR_TORCH_BUILD_ID     string identifying the LibTorch build, e.g. "1.13:libtorch.so.1.13"
//   TAILOR_TORCH_HAS_CUDA     1 when that LibTorch has CUDA, else 0
//   TAILOR_FINGERPRINT_MARKER name of the exported marker symbol, tailor_fp_v1_<hash>, where
//                             hash is derived from the ABI major and the values above
// so a plugin's fingerprint is always the one of the SDK it was built with.
#pragma once

#include <tailor/abi.h>
#include <torch/version.h>

/// SDK release; its major equals TAILOR_ABI_MAJOR.
#define TAILOR_SDK_VERSION "1.0.0"

#ifndef TAILOR_TORCH_BUILD_ID
#error "TAILOR_TORCH_BUILD_ID is undefined: link the target against Tailor::sdk"
#endif
#ifndef TAILOR_TORCH_HAS_CUDA
#define TAILOR_TORCH_HAS_CUDA 0
#endif

/// Descriptor flags of the plugin; define before including tailor/plugin.hpp to change.
#ifndef TAILOR_PLUGIN_FLAGS
#define TAILOR_PLUGIN_FLAGS 0u
#endif

#if defined(__clang__)
#define TAILOR_COMPILER_ID "clang " __clang_version__
#elif defined(__GNUC__)
#define TAILOR_COMPILER_ID "gcc " __VERSION__
#else
#define TAILOR_COMPILER_ID "unknown"
#endif

#ifdef _GLIBCXX_USE_CXX11_ABI
#define TAILOR_CXX11_ABI_VALUE _GLIBCXX_USE_CXX11_ABI
#else
#define TAILOR_CXX11_ABI_VALUE 0
#endif

/// Aggregate initialiser of a TailorBuildFingerprint describing this translation unit.
#define TAILOR_BUILD_FINGERPRINT_INIT                                                  \
  {sizeof(TailorBuildFingerprint), TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR,           \
   TAILOR_CXX11_ABI_VALUE, TAILOR_TORCH_HAS_CUDA, TAILOR_TORCH_BUILD_ID, TAILOR_COMPILER_ID}
