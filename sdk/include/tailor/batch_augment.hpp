// tailor/batch_augment.hpp - batched forms of the common in-memory augmentations, for
// Dataset::augment_batch() (ABI 1.2, `[train] augment_on = "device"`).
//
// A dataset whose batch() augments sample by sample on the CPU draws the per-sample random
// numbers on the CPU as before (a few integers per sample, from the same SampleRng stream),
// then hands them to these functions, which apply them to the whole batch with tensor ops
// on the device the batch lives on. Values are only copied, never recomputed, so the result
// is bit-identical to batch() with augmentation when the padding value is the normalised
// value batch() writes for a zero pixel.
#pragma once

#include <ATen/Tensor.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/zeros.h>

#include <tailor/error.hpp>

#include <cstdint>
#include <vector>

namespace tailor {

/// One sample's draw of RandomCrop(size, padding) + RandomHorizontalFlip: the crop window's
/// offset from the unpadded image's origin, each in [-padding, padding], and the mirror flag
/// (the flip is applied after the crop, as torchvision orders them).
struct CropFlipDraw {
  int64_t top = 0;
  int64_t left = 0;
  bool mirror = false;
};

/// RandomCrop(H, W, padding) + optional horizontal flip of `inputs` [N, C, H, W] (float, any
/// device, any memory format). Sample k's window starts at (draws[k].top, draws[k].left) of
/// the image padded on every side by `padding` pixels of value fill[c] in channel c; it is
/// mirrored left-right when draws[k].mirror. Returns a new contiguous [N, C, H, W] tensor on
/// `inputs`' device.
inline at::Tensor crop_flip_batch(const at::Tensor& inputs, const std::vector<CropFlipDraw>& draws,
                                  int64_t padding, const std::vector<float>& fill) {
  TAILOR_CHECK(inputs.dim() == 4, "crop_flip_batch: inputs must be [N, C, H, W], got rank ",
               inputs.dim());
  const int64_t n = inputs.size(0), c = inputs.size(1), h = inputs.size(2), w = inputs.size(3);
  TAILOR_CHECK(static_cast<int64_t>(draws.size()) == n, "crop_flip_batch: ", draws.size(),
               " draws for a batch of ", n);
  TAILOR_CHECK(static_cast<int64_t>(fill.size()) == c, "crop_flip_batch: ", fill.size(),
               " fill values for ", c, " channels");
  TAILOR_CHECK(padding >= 0, "crop_flip_batch: padding must be >= 0");
  const int64_t ph = h + 2 * padding, pw = w + 2 * padding;
  // The padded batch: fill everywhere, the images copied into the middle.
  at::Tensor fill_values = at::empty({c}, at::kFloat);
  for (int64_t i = 0; i < c; ++i) fill_values.data_ptr<float>()[i] = fill[static_cast<size_t>(i)];
  at::Tensor padded = fill_values.to(inputs.device(), inputs.scalar_type())
                          .view({1, c, 1, 1})
                          .expand({n, c, ph, pw})
                          .contiguous();
  padded.narrow(2, padding, h).narrow(3, padding, w).copy_(inputs);
  // Source row and column of every output pixel, built on the CPU and moved once.
  at::Tensor rows = at::empty({n, h}, at::kLong), cols = at::empty({n, w}, at::kLong);
  int64_t* r = rows.data_ptr<int64_t>();
  int64_t* q = cols.data_ptr<int64_t>();
  for (int64_t k = 0; k < n; ++k) {
    const CropFlipDraw& d = draws[static_cast<size_t>(k)];
    TAILOR_CHECK(d.top >= -padding && d.top <= padding && d.left >= -padding && d.left <= padding,
                 "crop_flip_batch: draw ", k, " (", d.top, ", ", d.left,
                 ") lies outside the padding of ", padding);
    for (int64_t y = 0; y < h; ++y) r[k * h + y] = y + d.top + padding;
    for (int64_t x = 0; x < w; ++x) q[k * w + x] = (d.mirror ? w - 1 - x : x) + d.left + padding;
  }
  rows = rows.to(inputs.device());
  cols = cols.to(inputs.device());
  const at::Tensor picked_rows = padded.gather(2, rows.view({n, 1, h, 1}).expand({n, c, h, pw}));
  return picked_rows.gather(3, cols.view({n, 1, 1, w}).expand({n, c, h, w})).contiguous();
}

/// One sample's Cutout box: rows [y0, y1) and columns [x0, x1), already clipped to the image.
struct CutoutBox {
  int64_t y0 = 0, y1 = 0, x0 = 0, x1 = 0;
};

/// Sets box k of sample k to 0 in every channel of `inputs` [N, C, H, W], in place; returns
/// `inputs`. (DeVries & Taylor's Cutout on the normalised tensor.)
inline at::Tensor cutout_batch(at::Tensor inputs, const std::vector<CutoutBox>& boxes) {
  TAILOR_CHECK(inputs.dim() == 4, "cutout_batch: inputs must be [N, C, H, W], got rank ",
               inputs.dim());
  const int64_t n = inputs.size(0), h = inputs.size(2), w = inputs.size(3);
  TAILOR_CHECK(static_cast<int64_t>(boxes.size()) == n, "cutout_batch: ", boxes.size(),
               " boxes for a batch of ", n);
  at::Tensor in_rows = at::zeros({n, h}, at::kBool), in_cols = at::zeros({n, w}, at::kBool);
  bool* ry = in_rows.data_ptr<bool>();
  bool* cx = in_cols.data_ptr<bool>();
  for (int64_t k = 0; k < n; ++k) {
    const CutoutBox& b = boxes[static_cast<size_t>(k)];
    for (int64_t y = b.y0; y < b.y1; ++y) ry[k * h + y] = true;
    for (int64_t x = b.x0; x < b.x1; ++x) cx[k * w + x] = true;
  }
  const at::Tensor mask =
      (in_rows.view({n, 1, h, 1}) & in_cols.view({n, 1, 1, w})).to(inputs.device());
  return inputs.masked_fill_(mask, 0.0);
}

}  // namespace tailor
