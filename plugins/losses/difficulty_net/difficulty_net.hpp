// difficulty_net: Difficulty-Net meta-learned class weights (Sinha & Ohashi, WACV 2023).
#pragma once

#include <tailor/components.hpp>
#include <tailor/constant.hpp>
#include <tailor/options.hpp>

#include <cstdint>
#include <vector>

namespace tailor::plugins {

/// Difficulty-Net: an MLP phi maps the per-class validation accuracies a to difficulties
/// d = phi(a) in (0,1)^C; the task loss is (1/N) sum_i w_{y_i} l(z_i, y_i) with
/// w_c = C d_c / sum_k d_k. phi is trained by the host's one-step look-ahead: meta_update()
/// receives the meta CE of the virtually stepped model, adds lambda times the driver loss
/// mean_c (d_c - t_c)^2, t_c = 1 - a_c / (sum_k a_k + 1e-12), and takes one Adam step on phi.
class DifficultyNetLoss final : public Loss {
 public:
  struct Options {
    enum class Base { kCe, kBalancedSoftmax };
    static constexpr auto kBases =
        choice<Base>({{"ce", Base::kCe}, {"balanced_softmax", Base::kBalancedSoftmax}});
    enum class MetaLoss { kBase, kCe };
    static constexpr auto kMetaLosses =
        choice<MetaLoss>({{"base", MetaLoss::kBase}, {"ce", MetaLoss::kCe}});

    int64_t hidden = 128;
    bool bias = false;
    double lambda = 0.3;
    double lr = 1e-5;
    double weight_decay = 1e-4;
    std::vector<double> betas = {0.9, 0.999};
    double adam_eps = 1e-8;
    Base base = Base::kCe;
    MetaLoss meta_loss = MetaLoss::kBase;
    bool detach_weights_in_virtual_step = false;

    template <class V>
    void visit(V& v) {
      v("hidden", hidden,
        "Hidden width H of the MLP C -> H -> H -> C (CIFAR 128, ImageNet-LT "
        "1024, Places-LT 512).",
        at_least(1.0));
      v("bias", bias,
        "Biases in the MLP's linear layers (CIFAR code: none; ImageNet/Places: yes).");
      v("lambda", lambda, "Weight of the driver loss in the meta objective.", at_least(0.0));
      v("lr", lr, "Adam learning rate of phi (CIFAR code 1e-5; ImageNet/Places code 1e-3).",
        greater_than(0.0));
      v("weight_decay", weight_decay, "Adam weight decay of phi (coupled L2, as torch.optim.Adam).",
        at_least(0.0));
      v("betas", betas, "Adam betas of phi.", range(0.0, 1.0, /*hi_open=*/true));
      v("adam_eps", adam_eps, "Adam epsilon of phi.", greater_than(0.0));
      v("base", base, "Per-sample loss l: softmax CE, or Balanced Softmax CE(z + log n, y).",
        kBases);
      v("meta_loss", meta_loss,
        "Loss of the meta batch at the looked-ahead parameters, unweighted: base (official "
        "code: the base loss l, Balanced Softmax on ImageNet-LT) or ce (plain cross-entropy).",
        kMetaLosses);
      v("detach_weights_in_virtual_step", detach_weights_in_virtual_step,
        "true: the virtual step's weights are constants, so phi learns from the driver loss "
        "only (official code); false: the bilevel meta-gradient reaches phi (paper's intent).");
    }
  };

  DifficultyNetLoss(const Options& options, const LossContext& context);

  uint32_t needs() const override { return needs::kValidationStats | needs::kMetaStep; }
  at::Tensor forward(const LossInput& input) override;
  void on_validation(const ClassStats& stats) override;
  void meta_update(const at::Tensor& meta_loss, const Clock& clock) override;
  /// Mean unweighted l(z, y) of the meta batch: the base loss (meta_loss = "base") or CE.
  at::Tensor meta_loss(const at::Tensor& logits, const at::Tensor& targets) const override;
  NamedTensors state() const override;
  void load_state(const NamedTensors& state) override;
  /// The current weights w [C] (no grad).
  at::Tensor class_weights() const override;
  /// "weights": w = C d / sum d; "difficulties": d = phi(a). Both without grad.
  NamedTensors class_vectors() const override;

  /// d = phi(a) [C] for the current accuracies (differentiable w.r.t. phi), computed in
  /// `dtype`: phi is cast to it, a (float64) too. forward() uses float64 for float64 logits
  /// and float32 otherwise.
  at::Tensor difficulties(at::ScalarType dtype = at::kFloat) const;
  /// w = C d / sum d [C] (differentiable w.r.t. phi), computed in `dtype`.
  at::Tensor weights(at::ScalarType dtype = at::kFloat) const;
  /// mean_c (d_c - t_c)^2 (differentiable w.r.t. phi), computed in `dtype`.
  at::Tensor driver_loss(at::ScalarType dtype = at::kFloat) const;
  /// The MLP's parameters, named as in state() ("phi.0.weight", ...). Owned by this loss,
  /// deliberately not returned by parameters(): the host must not optimise them.
  const NamedTensors& phi() const { return phi_; }
  /// The accuracy vector a [C] (float64, CPU) phi currently sees.
  const at::Tensor& accuracy() const { return accuracy_; }
  int64_t adam_steps() const { return adam_step_; }

 private:
  void adam_step(const std::vector<at::Tensor>& grads);
  /// The logits the base loss l reads: z + log n for Balanced Softmax, z for CE.
  at::Tensor base_logits(const at::Tensor& z) const;

  Options options_;
  int64_t num_classes_;
  c10::Device device_;
  NamedTensors phi_;                    // leaf tensors requiring grad, float32 on device_
  std::vector<at::Tensor> exp_avg_;     // Adam first moments, one per phi_ entry
  std::vector<at::Tensor> exp_avg_sq_;  // Adam second moments
  int64_t adam_step_ = 0;
  at::Tensor accuracy_;          // [C] float64 on the CPU; zeros before the first validation
  Constant log_counts_;          // [C], base = balanced_softmax only
  bool real_step_next_ = false;  // set by meta_update: the next forward is the real step
};

}  // namespace tailor::plugins
