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

#include <algorithm>
#include <cstdint>
#include <vector>

namespace tailor {

namespace detail {

/// A CPU tensor to fill on the host and then send to `target`: in page-locked memory when
/// `target` is a GPU, so that send_to() is an asynchronous copy. (A copy from ordinary memory
/// waits for the GPU to finish the work queued before it, which stalls the training loop at
/// every batch.)
inline at::Tensor host_staging(at::IntArrayRef sizes, at::ScalarType dtype,
                               const at::Device& target) {
  return at::empty(sizes, at::TensorOptions().dtype(dtype).pinned_memory(target.is_cuda()));
}

/// `host` on `target`; asynchronous when `host` is page-locked (LibTorch's pinned-memory
/// allocator keeps the buffer until the copy is done).
inline at::Tensor send_to(const at::Tensor& host, const at::Device& target) {
  return host.to(target, /*non_blocking=*/host.is_pinned());
}

}  // namespace detail

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
  const at::Device device = inputs.device();
  at::Tensor fill_values = detail::host_staging({c}, at::kFloat, device);
  for (int64_t i = 0; i < c; ++i) fill_values.data_ptr<float>()[i] = fill[static_cast<size_t>(i)];
  at::Tensor padded = detail::send_to(fill_values, device)
                          .to(inputs.scalar_type())
                          .view({1, c, 1, 1})
                          .expand({n, c, ph, pw})
                          .contiguous();
  padded.narrow(2, padding, h).narrow(3, padding, w).copy_(inputs);
  // Source row and column of every output pixel ([n, h] rows then [n, w] columns), built on
  // the CPU and moved in one copy.
  const at::Tensor sources = detail::host_staging({n * (h + w)}, at::kLong, device);
  int64_t* r = sources.data_ptr<int64_t>();
  int64_t* q = r + n * h;
  for (int64_t k = 0; k < n; ++k) {
    const CropFlipDraw& d = draws[static_cast<size_t>(k)];
    TAILOR_CHECK(d.top >= -padding && d.top <= padding && d.left >= -padding && d.left <= padding,
                 "crop_flip_batch: draw ", k, " (", d.top, ", ", d.left,
                 ") lies outside the padding of ", padding);
    for (int64_t y = 0; y < h; ++y) r[k * h + y] = y + d.top + padding;
    for (int64_t x = 0; x < w; ++x) q[k * w + x] = (d.mirror ? w - 1 - x : x) + d.left + padding;
  }
  const at::Tensor moved = detail::send_to(sources, device);
  const at::Tensor rows = moved.narrow(0, 0, n * h), cols = moved.narrow(0, n * h, n * w);
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
  // Which rows and columns each box covers ([n, h] then [n, w]), moved in one copy.
  const at::Tensor covered = detail::host_staging({n * (h + w)}, at::kBool, inputs.device());
  bool* ry = covered.data_ptr<bool>();
  bool* cx = ry + n * h;
  std::fill(ry, ry + n * (h + w), false);
  for (int64_t k = 0; k < n; ++k) {
    const CutoutBox& b = boxes[static_cast<size_t>(k)];
    for (int64_t y = b.y0; y < b.y1; ++y) ry[k * h + y] = true;
    for (int64_t x = b.x0; x < b.x1; ++x) cx[k * w + x] = true;
  }
  const at::Tensor moved = detail::send_to(covered, inputs.device());
  const at::Tensor mask = moved.narrow(0, 0, n * h).view({n, 1, h, 1}) &
                          moved.narrow(0, n * h, n * w).view({n, 1, 1, w});
  return inputs.masked_fill_(mask, 0.0);
}

}  // namespace tailor
