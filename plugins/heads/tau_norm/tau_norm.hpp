// tau_norm: a linear classifier whose weights are divided by |w_c|^tau at evaluation.
#pragma once

#include "common/linear_init.hpp"

#include <tailor/components.hpp>
#include <tailor/options.hpp>

#include <memory>

namespace tailor::plugins {

class TauNormHead final : public Head {
 public:
  struct Options : heads::BiasOptions {
    double tau = 1.0;

    template <class V>
    void visit(V& v) {
      heads::BiasOptions::visit(v);
      v("tau", tau, "Exponent tau of the evaluation transform; [eval] tau_sweep chooses it on val.",
        at_least(0));
    }
  };

  TauNormHead(const Options& options, const HeadContext& context);
  torch::nn::Module& module() override { return *module_; }
  at::Tensor forward(const at::Tensor& features) override;
  at::Tensor forward_functional(const at::Tensor& features, const NamedTensors& params) override;
  void reset_parameters() override;
  const char* eval_knob() const override { return "tau"; }
  double eval_knob_value() const override { return options_.tau; }
  void set_eval_knob(double value) override;

 private:
  at::Tensor logits(const at::Tensor& f, const at::Tensor& w, const at::Tensor& b) const;
  Options options_;
  std::shared_ptr<torch::nn::Module> module_;
  at::Tensor weight_, bias_;
};

}  // namespace tailor::plugins
