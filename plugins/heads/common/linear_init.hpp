// heads/common/linear_init.hpp - what the linear-family heads share: the bias options, the
// initialisation of torch.nn.Linear, and parameter substitution for functional forwards.
#pragma once

#include <ATen/Tensor.h>

#include <tailor/components.hpp>
#include <tailor/options.hpp>

#include <cstdint>

namespace tailor::heads {

/// How a head's bias starts.
enum class BiasInit { kDefault, kZero, kPrior };
inline constexpr auto kBiasInits = tailor::choice<BiasInit>(
    {{"default", BiasInit::kDefault}, {"zero", BiasInit::kZero}, {"prior", BiasInit::kPrior}});

/// The bias keys of linear, tau_norm and lws (same names and meaning in each).
struct BiasOptions {
  bool bias = true;
  BiasInit bias_init = BiasInit::kDefault;

  template <class V>
  void visit(V& v) {
    v("bias", bias, "Learn a bias b_c.");
    v("bias_init", bias_init,
      "default (PyTorch's uniform), zero, or prior: -log(C-1), as CB/CDB use for sigmoid and "
      "focal losses.",
      kBiasInits);
  }
};

/// Draws `weight` [C, D] as torch.nn.Linear does (Kaiming-uniform with a = sqrt(5)), then
/// `bias` [C] (when defined) by `init`: PyTorch's U(-1/sqrt(D), 1/sqrt(D)), zeros, or the
/// prior -log(C-1). The draws come from LibTorch's default generator, weight first.
void init_linear(at::Tensor& weight, at::Tensor& bias, BiasInit init);

/// The tensor named `name` in `params`, or `own` when `params` does not name it.
at::Tensor substituted(const NamedTensors& params, const char* name, const at::Tensor& own);

}  // namespace tailor::heads
