// cmo: CutMix of a training batch with a minority-oversampled batch (Park et al., CVPR 2022).
#pragma once

#include <tailor/components.hpp>
#include <tailor/options.hpp>

#include <cstdint>

namespace tailor::plugins {

/// The box of naver-ai/cmo's rand_bbox: rows [x1, x2) of dim 2 and columns [y1, y2) of dim 3
/// (the official names; its "W" is the size of dim 2). May be empty.
struct CutMixBox {
  int64_t x1 = 0;
  int64_t y1 = 0;
  int64_t x2 = 0;
  int64_t y2 = 0;

  int64_t area() const { return (x2 - x1) * (y2 - y1); }
};

/// rand_bbox for an image of `rows` x `cols` with its draws supplied: cut_r = int(rows
/// sqrt(1 - lambda)), cut_c likewise; box = [cx - cut_r // 2, cx + cut_r // 2] x [cy - cut_c
/// // 2, cy + cut_c // 2], each end clipped to [0, size]. lambda in [0, 1], cx in [0, rows),
/// cy in [0, cols); throws tailor::Error otherwise.
CutMixBox cutmix_box(int64_t rows, int64_t cols, double lambda, int64_t cx, int64_t cy);

/// CMO's mix with explicit draws: `inputs_a` [N, C, H, W] with the box of cutmix_box(H, W,
/// lambda, cx, cy) overwritten by `inputs_b` at the same coordinates (a new tensor; the
/// inputs are not modified), targets_b as given, and mix_weight = 1 - area / (H W) for every
/// sample, in float64 for float64 inputs and float32 otherwise. `inputs_b` has the shape of
/// `inputs_a` or more rows, of which the first N are used (the official `input2[:N]`).
MixOutput cutmix(const at::Tensor& inputs_a, const at::Tensor& inputs_b,
                 const at::Tensor& targets_b, double lambda, int64_t cx, int64_t cy);

/// CMO (Park et al., CVPR 2022): with probability `prob` per batch, in the epochs of the
/// window, one CutMix box per batch pastes the minority-oversampled second batch into the
/// batch; the loss is lambda L(y_a) + (1 - lambda) L(y_b) with lambda the kept area.
class Cmo final : public BatchMix {
 public:
  struct Options {
    double prob = 0.5;
    double beta = 1.0;
    int64_t start_epoch = 3;
    int64_t end_epochs = 3;

    template <class V>
    void visit(V& v) {
      v("prob", prob, "Probability that a batch of an epoch in the window is mixed.",
        range(0.0, 1.0));
      v("beta", beta, "lambda ~ Beta(beta, beta).", greater_than(0.0));
      v("start_epoch", start_epoch,
        "Mix only in epochs e > start_epoch (0-based within the stage); -1 mixes from the "
        "first epoch.",
        at_least(-1.0));
      v("end_epochs", end_epochs, "The last end_epochs epochs of the stage are not mixed.",
        at_least(0.0));
    }
  };

  Cmo(const Options& options, const BatchMixContext& context);
  bool wants_second_batch() const override { return true; }
  MixOutput mix(const MixInput& input) override;

  /// Whether batches of epoch `epoch` (0-based) of a stage of `total_epochs` may be mixed:
  /// start_epoch < epoch < total_epochs - end_epochs.
  bool in_window(int64_t epoch, int64_t total_epochs) const;

 private:
  Options options_;
};

}  // namespace tailor::plugins
