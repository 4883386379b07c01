// pipeline.hpp: decode + train/eval transforms + normalisation of one JPEG into a float32
// CHW buffer, the torchvision ImageNet recipe written as plain loops.
#pragma once

#include "random.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace tailor::image {

/// Training augmentation of a pipeline.
enum class Augment {
  kNone,         ///< the evaluation transform, also for training
  kStandard,     ///< RandomResizedCrop, RandomHorizontalFlip, ColorJitter
  kRandAugment,  ///< the above, then RandAugment(N, M)
};

struct TransformOptions {
  int image_size = 224;  ///< output side S
  int resize = 256;      ///< evaluation: shorter side resized to this, then the centre S x S
  Augment augment = Augment::kStandard;
  double color_jitter = 0.4;  ///< brightness = contrast = saturation; 0 = no jitter (hue 0)
  int randaugment_n = 2;      ///< RandAugment ops per image
  int randaugment_m = 9;      ///< RandAugment magnitude, 0..30 (31 bins)
  float mean[3] = {0.485f, 0.456f, 0.406f};
  float std[3] = {0.229f, 0.224f, 0.225f};
  /// Training transform: decode at 1/8, 1/4 or 1/2 scale in the DCT domain when the crop is
  /// still at least as large as the output; false: full resolution (Pillow-exact geometry).
  /// The evaluation transform always decodes at full resolution.
  bool decode_scaling = true;
};

/// Crop window (top, left, height, width) that torchvision's RandomResizedCrop.get_params
/// picks for a width x height image with scale (0.08, 1) and ratio (3/4, 4/3): up to 10
/// attempts, then the centre crop fallback.
struct CropBox {
  int top = 0;
  int left = 0;
  int height = 0;
  int width = 0;
};
CropBox random_resized_crop_box(int width, int height, SampleRng& rng);

/// Size (width, height) of torchvision's Resize(size) (shorter side to `size`, the longer
/// side truncated) and the offsets of CenterCrop(crop) in it (Python's round-half-even).
struct EvalGeometry {
  int resized_width = 0;
  int resized_height = 0;
  int crop_left = 0;
  int crop_top = 0;
};
EvalGeometry eval_geometry(int width, int height, int resize, int crop);

/// Thread-safe: process() keeps its scratch buffers (and a JPEG decoder) per thread.
class ImagePipeline {
 public:
  explicit ImagePipeline(const TransformOptions& options);

  /// Decodes the JPEG data[0, size) and writes the 3 x S x S float32 result, channel-major,
  /// to `out`. train: RandomResizedCrop(S) -> RandomHorizontalFlip -> ColorJitter ->
  /// RandAugment as configured, drawing every random number from `rng`; otherwise (or with
  /// Augment::kNone) Resize(resize) -> CenterCrop(S), exactly as torchvision on a PIL image
  /// decoded by the same libjpeg-turbo. Then (v / 255 - mean) / std in float32,
  /// as ToTensor + Normalize compute it. False, with *error set, for data that is not a
  /// decodable JPEG (nothing is written to `out`).
  bool process(const uint8_t* data, size_t size, bool train, SampleRng& rng, float* out,
               std::string* error) const;

  /// Fills `out` with the normalised image of one RGB colour (black: 0, 0, 0).
  void fill(float* out, uint8_t r, uint8_t g, uint8_t b) const;
  /// The normalised value of 8-bit value v in channel c.
  float normalised(int channel, uint8_t v) const { return lut_[channel][v]; }
  const TransformOptions& options() const { return options_; }
  /// Floats per sample: 3 * S * S.
  size_t sample_floats() const {
    return 3 * static_cast<size_t>(options_.image_size) * options_.image_size;
  }

 private:
  TransformOptions options_;
  float lut_[3][256];
};

}  // namespace tailor::image
