// torchscript_loss: a loss written in Python, saved with torch.jit.script, run through LibTorch.
#pragma once

#include <tailor/components.hpp>
#include <tailor/options.hpp>

#include <torch/csrc/jit/api/module.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tailor::plugins {

/// Runs a TorchScript module as the loss. The module must have
///   setup(self, class_counts: Tensor, params: Dict[str, float]) -> None   (called once)
///   forward(self, logits: Tensor, targets: Tensor) -> Tensor              (a scalar)
/// and may have adjust_logits(self, logits: Tensor) -> Tensor (evaluation logits).
/// Every contract violation, at load or at a call, is a tailor::Error naming the file,
/// the method and the fix.
class TorchScriptLoss final : public Loss {
 public:
  struct Options {
    std::string script;
    std::vector<std::string> param_names;
    std::vector<double> param_values;

    template <class V>
    void visit(V& v) {
      v("script", script,
        "TorchScript file saved with torch.jit.script(MyLoss()).save(path); relative to the "
        "working directory. Required.");
      v("param_names", param_names,
        "Names of the float parameters passed to setup() as params, in the order of "
        "param_values.");
      v("param_values", param_values, "Values of the parameters named in param_names.");
    }
  };

  TorchScriptLoss(const Options& options, const LossContext& context);
  at::Tensor forward(const LossInput& input) override;
  at::Tensor adjust_logits(const at::Tensor& logits) const override;
  /// The script's fingerprint and its registered buffers ("buffer.<name>").
  NamedTensors state() const override;
  /// Refuses a state written with another script file; restores the buffers.
  void load_state(const NamedTensors& state) override;

  /// 64-bit FNV-1a of the script file's bytes, as loaded.
  uint64_t fingerprint() const { return fingerprint_; }

 private:
  std::string where(const char* method) const;

  std::string path_;
  int64_t num_classes_;
  uint64_t fingerprint_ = 0;
  torch::jit::Module module_;
  bool has_adjust_logits_ = false;
};

}  // namespace tailor::plugins
