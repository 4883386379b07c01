// cmo: CutMix of a training batch with a minority-oversampled batch (Park et al., CVPR 2022).
#include "cmo.hpp"

#include "../common/draws.hpp"

#include <tailor/log.hpp>
#include <tailor/random.hpp>

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace tailor::plugins {

namespace {

void check_images(const at::Tensor& inputs, const char* what) {
  TAILOR_CHECK(inputs.defined(), "cmo: ", what, " are missing");
  TAILOR_CHECK(inputs.dim() == 4, "cmo: ", what,
               " must be images [N, C, H, W] (CutMix pastes a box of rows and columns), got "
               "shape ",
               inputs.sizes());
}

}  // namespace

CutMixBox cutmix_box(int64_t rows, int64_t cols, double lambda, int64_t cx, int64_t cy) {
  TAILOR_CHECK(rows > 0 && cols > 0, "cmo: an image of ", rows, " x ", cols, " has no pixels");
  TAILOR_CHECK(lambda >= 0.0 && lambda <= 1.0, "cmo: lambda must be in [0, 1], got ", lambda);
  TAILOR_CHECK(cx >= 0 && cx < rows && cy >= 0 && cy < cols, "cmo: box centre (", cx, ", ", cy,
               ") outside an image of ", rows, " x ", cols);
  const double cut = std::sqrt(1.0 - lambda);
  const auto cut_rows = static_cast<int64_t>(static_cast<double>(rows) * cut);
  const auto cut_cols = static_cast<int64_t>(static_cast<double>(cols) * cut);
  const auto clip = [](int64_t v, int64_t hi) { return std::clamp<int64_t>(v, 0, hi); };
  return {clip(cx - cut_rows / 2, rows), clip(cy - cut_cols / 2, cols),
          clip(cx + cut_rows / 2, rows), clip(cy + cut_cols / 2, cols)};
}

MixOutput cutmix(const at::Tensor& inputs_a, const at::Tensor& inputs_b,
                 const at::Tensor& targets_b, double lambda, int64_t cx, int64_t cy) {
  check_images(inputs_a, "inputs");
  check_images(inputs_b, "inputs_b (the second batch)");
  const int64_t n = inputs_a.size(0), rows = inputs_a.size(2), cols = inputs_a.size(3);
  TAILOR_CHECK(inputs_b.size(0) >= n && inputs_b.sizes().slice(1) == inputs_a.sizes().slice(1),
               "cmo: the second batch ", inputs_b.sizes(), " does not match the batch ",
               inputs_a.sizes(), " (it needs the same sample shape and at least as many samples)");
  TAILOR_CHECK(targets_b.defined() && targets_b.dim() == 1 && targets_b.size(0) >= n,
               "cmo: the second batch needs targets [N >= ", n, "]");
  const CutMixBox box = cutmix_box(rows, cols, lambda, cx, cy);
  MixOutput out;
  out.inputs = inputs_a.clone();
  if (box.area() > 0)
    out.inputs.narrow(2, box.x1, box.x2 - box.x1)
        .narrow(3, box.y1, box.y2 - box.y1)
        .copy_(inputs_b.narrow(0, 0, n)
                   .narrow(2, box.x1, box.x2 - box.x1)
                   .narrow(3, box.y1, box.y2 - box.y1));
  out.targets_b = targets_b.narrow(0, 0, n);
  // The official recomputation, exactly: 1 - area / (H W) in double precision.
  const double kept = 1.0 - static_cast<double>(box.area()) / static_cast<double>(rows * cols);
  const at::ScalarType dtype = inputs_a.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  out.mix_weight = at::full({n}, kept, inputs_a.options().dtype(dtype));
  return out;
}

Cmo::Cmo(const Options& options, const BatchMixContext& context) : options_(options) {
  const int64_t total = context.total_epochs;
  if (total <= 0) return;
  bool any = false;
  for (int64_t e = 0; e < total && !any; ++e) any = in_window(e, total);
  if (!any)
    log_warn("cmo: no epoch of this " + std::to_string(total) +
             "-epoch stage lies in the window start_epoch < e < epochs - end_epochs (" +
             std::to_string(options.start_epoch) + ", " + std::to_string(options.end_epochs) +
             "); no batch will be mixed");
}

bool Cmo::in_window(int64_t epoch, int64_t total_epochs) const {
  return options_.start_epoch < epoch && epoch < total_epochs - options_.end_epochs;
}

MixOutput Cmo::mix(const MixInput& input) {
  check_images(input.inputs, "inputs");
  if (!in_window(input.clock.epoch, input.clock.total_epochs)) return {};
  // The official order of draws: the coin, lambda, then the centre (row, column).
  SampleRng rng(input.seed, 0);
  if (!(rng.uniform() < options_.prob)) return {};
  const double lambda = batch_mixers::beta_draw(rng, options_.beta, options_.beta);
  const int64_t cx = rng.below(input.inputs.size(2));
  const int64_t cy = rng.below(input.inputs.size(3));
  TAILOR_CHECK(input.inputs_b.defined() && input.targets_b.defined(),
               "cmo: the host gave no second batch (inputs_b, targets_b); CMO needs the "
               "minority-oversampled stream");
  return cutmix(input.inputs, input.inputs_b, input.targets_b, lambda, cx, cy);
}

}  // namespace tailor::plugins
