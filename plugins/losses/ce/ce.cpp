// ce: softmax cross-entropy with optional per-class weights and label smoothing.
#include <tailor/plugin.hpp>

#include <torch/nn/functional/loss.h>

namespace {

class CrossEntropy final : public tailor::Loss {
 public:
  struct Options {
    std::vector<double> class_weights;  // empty: uniform
    double label_smoothing = 0.0;
    std::string reduction = "mean";

    template <class V>
    void visit(V& v) {
      v("class_weights", class_weights,
        "Per-class weights w_c, one per class; empty means uniform.", tailor::at_least(0.0));
      v("label_smoothing", label_smoothing, "Label smoothing epsilon.",
        tailor::range(0.0, 1.0, /*hi_open=*/true));
      v("reduction", reduction,
        "'mean': sum_i w_yi l_i / sum_i w_yi (PyTorch weighted mean); "
        "'batch_mean': sum_i w_yi l_i / N; 'sum'.",
        tailor::one_of({"mean", "batch_mean", "sum"}));
    }
  };

  CrossEntropy(const Options& options, const tailor::LossContext& context) : options_(options) {
    if (!options.class_weights.empty()) {
      TAILOR_CHECK(static_cast<int64_t>(options.class_weights.size()) == context.num_classes,
                   "[loss] class_weights has ", options.class_weights.size(),
                   " entries but the dataset has ", context.num_classes,
                   " classes; give one weight per class or leave it empty");
      weights_ = torch::tensor(options.class_weights, torch::kFloat).to(context.device);
    }
  }

  // Matches torch.nn.functional.cross_entropy(weight=w, label_smoothing=eps): the smoothing
  // term weighs every class by its own w_c; 'mean' divides by sum_i w_{y_i}.
  at::Tensor forward(const tailor::LossInput& in) override {
    const double eps = options_.label_smoothing;
    const int64_t num_classes = in.logits.size(1);
    at::Tensor log_p = torch::log_softmax(in.logits, 1);
    at::Tensor nll = -log_p.gather(1, in.targets.unsqueeze(1)).squeeze(1);
    at::Tensor w_y;
    at::Tensor per_sample = nll;
    if (weights_.defined()) {
      at::Tensor w = weights_.to(in.logits.dtype());
      w_y = w.index_select(0, in.targets);
      per_sample = w_y * nll;
      if (eps > 0.0) per_sample = (1.0 - eps) * per_sample - (eps / num_classes) * (log_p * w).sum(1);
    } else if (eps > 0.0) {
      per_sample = (1.0 - eps) * nll - (eps / num_classes) * log_p.sum(1);
    }
    if (options_.reduction == "sum") return per_sample.sum();
    if (options_.reduction == "batch_mean" || !w_y.defined()) return per_sample.mean();
    return per_sample.sum() / w_y.sum();
  }

  at::Tensor class_weights() const override { return weights_; }

 private:
  Options options_;
  at::Tensor weights_;
};

}  // namespace

TAILOR_LOSS_PLUGIN(CrossEntropy, "ce", "1.0.0",
                   "Softmax cross-entropy with optional class weights and label smoothing.")
