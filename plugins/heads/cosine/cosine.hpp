// cosine: logits = s <f/|f|, w_c/|w_c|>, LDAM's NormedLinear.
#pragma once

#include "common/linear_init.hpp"

#include <tailor/components.hpp>
#include <tailor/options.hpp>

#include <memory>

namespace tailor::plugins {

class CosineHead final : public Head {
 public:
  static constexpr bool kNormedLogits = true;

  struct Options {
    double scale = 1.0;

    template <class V>
    void visit(V& v) {
      v("scale", scale, "Logit scale s.", greater_than(0));
    }
  };

  CosineHead(const Options& options, const HeadContext& context);
  torch::nn::Module& module() override { return *module_; }
  at::Tensor forward(const at::Tensor& features) override;
  at::Tensor forward_functional(const at::Tensor& features, const NamedTensors& params) override;
  void reset_parameters() override;

 private:
  at::Tensor logits(const at::Tensor& f, const at::Tensor& w) const;
  Options options_;
  std::shared_ptr<torch::nn::Module> module_;
  at::Tensor weight_;
};

}  // namespace tailor::plugins
