// focal_example: softmax focal loss (Lin et al., "Focal Loss for Dense Object Detection",
// ICCV 2017), the template of an out-of-tree tailor loss plugin.
//
//   FL(x, y) = -(1 - p_t)^gamma * log p_t,   p_t = softmax(x)_y,
//
// averaged over the batch. gamma = 0 is plain cross-entropy; a larger gamma down-weights
// well-classified samples, which in a long-tailed set are mostly head-class samples.
//
// The class lives in this header so that test_focal_example.cpp can construct it;
// focal_example.cpp turns it into the plugin.
#pragma once

#include <tailor/components.hpp>
#include <tailor/options.hpp>

namespace focal_example {

class FocalExample final : public tailor::Loss {
 public:
  // Each option is one field with its default, named once in visit(). The host renders the
  // schema from it, checks the experiment's [loss] table against it (unknown keys, types,
  // the constraint) and fills the struct before the constructor runs.
  struct Options {
    double gamma = 2.0;

    template <class V>
    void visit(V& v) {
      v("gamma", gamma, "Focusing parameter; 0 is cross-entropy.", tailor::at_least(0.0));
    }
  };

  FocalExample(const Options& options, const tailor::LossContext& /*context*/)
      : gamma_(options.gamma) {}

  // logits [N, C], targets [N] int64 -> scalar, differentiable w.r.t. the logits.
  at::Tensor forward(const tailor::LossInput& in) override {
    const at::Tensor log_pt =
        in.logits.log_softmax(1).gather(1, in.targets.unsqueeze(1)).squeeze(1);
    // 1 - p_t as -expm1(log p_t) keeps its precision near p_t = 1; the tiny floor keeps the
    // gradient of pow() finite for gamma < 1 when p_t rounds to exactly 1.
    const at::Tensor modulator = (-log_pt.expm1()).clamp_min(1e-12).pow(gamma_);
    return (-modulator * log_pt).mean();
  }

 private:
  double gamma_;
};

}  // namespace focal_example
