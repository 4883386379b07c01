// lws: learnable weight scaling, logits = g_c (W f + b)_c (Kang et al. 2020).
#pragma once

#include "common/linear_init.hpp"

#include <tailor/components.hpp>
#include <tailor/options.hpp>

#include <memory>

namespace tailor::plugins {

class LwsHead final : public Head {
 public:
  using Options = heads::BiasOptions;

  LwsHead(const Options& options, const HeadContext& context);
  torch::nn::Module& module() override { return *module_; }
  at::Tensor forward(const at::Tensor& features) override;
  at::Tensor forward_functional(const at::Tensor& features, const NamedTensors& params) override;
  void reset_parameters() override;

 private:
  Options options_;
  std::shared_ptr<torch::nn::Module> module_;
  at::Tensor weight_, bias_, scales_;
};

}  // namespace tailor::plugins
