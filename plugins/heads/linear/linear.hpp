// linear: logits = W f + b, torch.nn.Linear.
#pragma once

#include "common/linear_init.hpp"

#include <tailor/components.hpp>
#include <tailor/options.hpp>

#include <memory>

namespace tailor::plugins {

class LinearHead final : public Head {
 public:
  using Options = heads::BiasOptions;

  LinearHead(const Options& options, const HeadContext& context);
  torch::nn::Module& module() override { return *module_; }
  at::Tensor forward(const at::Tensor& features) override;
  at::Tensor forward_functional(const at::Tensor& features, const NamedTensors& params) override;
  void reset_parameters() override;

 private:
  Options options_;
  std::shared_ptr<torch::nn::Module> module_;
  at::Tensor weight_, bias_;
};

}  // namespace tailor::plugins
